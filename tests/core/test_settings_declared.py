"""Every HUYING_* setting is declared once, with its default, in huying/settings.py (issue 17).

The code reads `settings.HUYING_X` directly: a default hidden at a call site (`getattr(settings,
"HUYING_X", default)`) is a second declaration that can disagree with the first, and a misspelt name
read that way silently gives the default. Bad environment values stop the start (ImproperlyConfigured).
"""

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import huying
from huying import settings as settings_module

PACKAGE = Path(huying.__file__).resolve().parent
EXCLUDED: set[str] = set()  # files allowed a getattr default (none)
GETATTR = re.compile(r"""getattr\(\s*settings\s*,\s*["']HUYING_""")
USED = re.compile(r"\bsettings\.(HUYING_\w+)")


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path.read_text("utf-8")


def test_no_call_site_defaults():
    found = [f"{rel}:{n}" for rel, text in _sources() if rel not in EXCLUDED
             for n, line in enumerate(text.splitlines(), 1) if GETATTR.search(line)]
    assert found == [], f"read settings.HUYING_X and declare its default in huying/settings.py: {found}"


def test_the_grep_sees_a_call_site_default():
    assert GETATTR.search('x = getattr(settings, "HUYING_SOMETHING", 3)')
    assert GETATTR.search("x = getattr(settings,'HUYING_SOMETHING')")
    assert not GETATTR.search("x = settings.HUYING_SOMETHING")


def test_every_name_read_is_declared():
    used = {name for _rel, text in _sources() for name in USED.findall(text)}
    assert len(used) > 20  # the scan found the code's reads
    missing = sorted(name for name in used if not hasattr(settings, name))
    assert missing == [], f"read but not declared in huying/settings.py: {missing}"


def test_each_setting_is_declared_once():
    text = (PACKAGE / "settings.py").read_text("utf-8")
    names = re.findall(r"^(HUYING_\w+)\s*=", text, flags=re.MULTILINE)
    assert len(names) > 20
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("HUYING_DISPATCH_AUTO", "yes", True),
    ("HUYING_CLASSIFIER_AUTO", "0", False),
    ("HUYING_NOTIFY_RETRY_BASE", "45", 45),
    ("HUYING_DISPATCH_LIMITS", '{"resolve": ["10", "work_days"], "warn_ratio": 0.5}',
     {"resolve": (Decimal("10"), "work_days"), "warn_ratio": 0.5}),
    ("HUYING_WHISTLE_REPORT_MINUTES", '{"routine": 90}', {"routine": 90}),
    ("HUYING_OPEN311_HIDDEN_REQUEST_TYPES", '["report", "complaint"]', ["report", "complaint"]),
    ("HUYING_INSIGHT_BASIC_WEIGHT", "0.5", 0.5),
    ("HUYING_OFFICE_HOURS", '[["08:30", "12:00"]]', [("08:30", "12:00")]),
    ("HUYING_SMS_GATEWAY_URL", "https://sms.example.gov.cn/send", "https://sms.example.gov.cn/send"),
])
def test_good_values_parse(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert _declared(name) == expected


@pytest.mark.parametrize(("name", "value", "says"), [
    ("HUYING_DISPATCH_AUTO", "maybe", "expected 1/0"),
    ("HUYING_NOTIFY_RETRY_BASE", "30s", "whole number"),
    ("HUYING_NOTIFY_MAX_ATTEMPTS", "0", "at least 1"),
    ("HUYING_NOTIFY_CHANNELS", '{"overdue": "sms"}', "array of non-empty strings"),
    ("HUYING_NOTIFY_SENDERS", '["sms"]', "JSON object"),
    ("HUYING_DISPATCH_LIMITS", '{"resolve": 10}', "resolve: expected [amount, unit]"),
    ("HUYING_DISPATCH_LIMITS", '{"resolve": ["ten", "work_days"]}', "positive amount"),
    ("HUYING_DISPATCH_LIMITS", '{"warn_ratio": 2}', "from 0 to 1"),
    ("HUYING_WHISTLE_REPORT_MINUTES", "{routine: 90}", "HUYING_WHISTLE_REPORT_MINUTES"),
    ("HUYING_SUPERVISION_ESCALATE_HOURS", "-1", "at least 0"),
    ("HUYING_INSIGHT_WEIGHTS", '{"on_time": "a lot"}', "could not convert"),
    ("HUYING_INSIGHT_BASIC_WEIGHT", "1.5", "from 0 to 1"),
    ("HUYING_OFFICE_HOURS", '[["9", "17:00"]]', "HH:MM"),
    ("HUYING_SMS_GATEWAY_URL", "sms.example.gov.cn", "http:// or https://"),
    ("HUYING_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", "proxy.local"),
])
def test_bad_values_are_refused(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as err:
        _declared(name)
    assert str(err.value).startswith(f"{name}: ") and says in str(err.value)


def test_a_bad_value_stops_the_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUYING_")}
    env.update(DJANGO_SETTINGS_MODULE="huying.settings", HUYING_VAR_DIR=str(tmp_path), HUYING_NOTIFY_RETRY_BASE="soon")
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "ImproperlyConfigured: HUYING_NOTIFY_RETRY_BASE: expected a whole number, got 'soon'" in run.stderr


def _declared(name: str):
    """Re-run the declaration of `name` from huying/settings.py against the current environment."""
    source = (PACKAGE / "settings.py").read_text("utf-8")
    match = re.search(rf"^{name} = (.+?)\n(?=\S)", source, flags=re.MULTILINE | re.DOTALL)
    assert match, name
    return eval(match.group(1), vars(settings_module))  # noqa: S307 - our own settings file
