"""`huying locate`: JSON answers and exit statuses, through call_command and the real entry point."""

import json
import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from huying.territory import coords, locator

from .test_locator import make_city

HUYING = Path(sys.executable).with_name("huying")


def run(*args) -> tuple[int, dict, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("locate", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.getvalue()), err.getvalue()


@pytest.fixture
def city(db):
    t = make_city()
    yield t
    locator.invalidate()


def test_point_found(city):
    status, payload, _ = run("113.21", "23.12")
    assert status == 0
    assert payload == {
        "district": {"code": "440104", "name": "越秀区"},
        "street": {"code": "440104001", "name": "北京街道"},
        "community": {"code": "440104001001", "name": "流水井社区居民委员会"},
        "grid": {"code": "440104001001001", "name": "流水井第1网格"},
    }


def test_point_in_other_crs_and_outside(city):
    lng, lat = coords.wgs84_to_gcj02(113.2123, 23.1234)
    status, payload, _ = run(f"{lng:.9f}", f"{lat:.9f}", "--crs", "gcj02")
    assert status == 0 and payload["grid"]["code"] == "440104001001001"
    assert run("114.0579", "22.5431")[:2] == (3, {"outside": True})
    assert run("-122.4", "37.8")[:2] == (3, {"outside": True})


def test_address(city):
    status, payload, _ = run("--address", "越秀北京街")
    assert status == 0 and payload["street"]["name"] == "北京街道" and payload["community"] is None
    assert run("--address", "深圳市南山区")[:2] == (3, {"outside": True})
    assert run("--address", "火星基地")[:2] == (4, {"found": False})


@pytest.mark.parametrize("args", [
    ("abc", "23.1"), ("113.2",), (), ("113.2", "95"), ("200", "23"), ("nan", "23"),
    ("113.2", "23.1", "--crs", "epsg3857"), ("113.2", "23.1", "--address", "北京街"),
])
def test_bad_input_exits_2_with_a_message(city, args):
    status, payload, err = run(*args)
    assert status == 2
    assert payload["error"].startswith("territory.") and payload["message"] and err.strip()


@pytest.mark.django_db(transaction=True)
def test_real_entry_point(tmp_path):
    """The installed `huying` script, in its own process, against a copy of the test database.

    SQLite's test database lives in memory, so it is copied to a file the child can open;
    PostgreSQL's committed test database is opened by name.
    """
    make_city()
    locator.invalidate()
    env = {**os.environ, "HUYING_VAR_DIR": str(tmp_path)}
    if connection.vendor == "sqlite":
        target = tmp_path / "copy.sqlite3"
        dest = sqlite3.connect(target)
        connection.ensure_connection()
        connection.connection.backup(dest)
        dest.close()
        env["DATABASE_URL"] = f"sqlite:///{target}"
    else:
        s = connection.settings_dict
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def huying(*args):
        p = subprocess.run([str(HUYING), "locate", *args], env=env, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    status, out, _ = huying("113.21", "23.12")
    assert status == 0, out
    assert json.loads(out)["grid"]["name"] == "流水井第1网格"
    assert "流水井" in out  # ensure_ascii=False: readable Chinese, not \u escapes
    assert huying("114.0579", "22.5431")[:2] == (3, '{"outside": true}\n')
    assert huying("--address", "不存在的地方")[0] == 4
    status, _, err = huying("east", "north")
    assert status == 2 and "经纬度必须是数字" in err
