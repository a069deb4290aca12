"""Nothing acknowledged is lost when the server is killed (SIGKILL) mid-intake, and retries with the
same idempotency keys create nothing twice — in real processes: `huying serve` (gunicorn) taking
orders over the JSON API from concurrent clients, killed with its whole process group, restarted.
The rollup queue rows of every committed order survive too, and the worker's `rollups` job then
makes the dashboard's figures equal a direct count."""

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.web.test_worker_process import ROOT, _free_port, _listening, _wait

pytestmark = pytest.mark.xdist_group("kill")

SETUP = """
import json, sys
import django
django.setup()
from huying.dispatch.seed import dispatch_seed
from huying.people.demo import demo_org_seed
from huying.people.models import User
from huying.people.services import api_token_create, user_create
from huying.territory.testing import load_territory
load_territory(districts=("440104",))
demo_org_seed(password="Huying-kill-2026")
dispatch_seed()
user = user_create(username="kill-api", password="Huying-kill-2026", display_name="k", actor=None,
                   check_password=False)
print("TOKEN " + api_token_create(user, name="test_kill", actor=None)[1])
from huying.dispatch.management.commands.simulate import simulated_items
items = simulated_items(400, seed=7, district="440104")
print("ITEMS " + json.dumps([{k: v for k, v in i.items() if k not in ("idempotency_key", "auto_dispatch")}
                              for i in items], ensure_ascii=False))
"""

CHECK = """
import json
import django
django.setup()
from django.db.models import Count
from huying.core import jobs
from huying.dispatch.models import IdempotencyKey, WorkOrder
from huying.insight import rollups
from huying.insight.models import AreaNow, RefreshQueue
queued = RefreshQueue.objects.values("order_id").distinct().count()
job = next(j for j in jobs.registered() if j.name == "rollups")
jobs.run_job(job, now=django.utils.timezone.now())
city = AreaNow.objects.filter(code=rollups.city_code()).values_list("created", flat=True).first() or 0
dupes = list(IdempotencyKey.objects.values("scope", "key").annotate(n=Count("id")).filter(n__gt=1))
print(json.dumps({"orders": WorkOrder.objects.count(), "keys": IdempotencyKey.objects.count(),
                  "codes": list(WorkOrder.objects.values_list("code", flat=True)), "queued": queued,
                  "city_created": city, "left_in_queue": RefreshQueue.objects.count(), "dupes": len(dupes)}))
"""


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUYING_DEBUG"}}
    env.update(HUYING_VAR_DIR=str(tmp_path), HUYING_SECRET_KEY="test-" + "k" * 60, PYTHONUNBUFFERED="1",
               DJANGO_SETTINGS_MODULE="huying.settings", HUYING_DISPATCH_AUTO="1", HUYING_RATE_API="1000000/m",
               HUYING_INSIGHT_REFRESH="worker")
    database = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        database = f"huying_kill_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {database}")
        env["DATABASE_URL"] = f"{base}/{database}"
    subprocess.run([sys.executable, "-m", "huying.cli", "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    yield env
    if database:
        import psycopg

        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _serve(env, port):
    log = Path(env["HUYING_VAR_DIR"], "serve.log").open("ab")  # read when an assertion fails
    return subprocess.Popen(
        [sys.executable, "-m", "huying.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--threads", "2"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _log(env) -> str:
    return Path(env["HUYING_VAR_DIR"], "serve.log").read_text(errors="replace")[-3000:]


def _post(port, token, key, body) -> tuple[int, str]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/dispatch/orders", data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key},
        method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())["code"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300].decode(errors="replace")


def test_a_killed_server_loses_no_acknowledged_order_and_retries_make_no_duplicates(env):
    setup = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600, check=True).stdout
    token = next(line[6:] for line in setup.splitlines() if line.startswith("TOKEN "))
    bodies = json.loads(next(line[6:] for line in setup.splitlines() if line.startswith("ITEMS ")))
    keys = [f"kill-{i}" for i in range(len(bodies))]
    for b in bodies:
        b["channel"] = "api"

    port = _free_port()
    server = _serve(env, port)
    acked: dict[str, str] = {}  # key → order code, for every 201 a client got
    refused: list[tuple] = []
    lock = threading.Lock()
    try:
        assert _wait(lambda: _listening(port), 60), "the server did not come up"

        def client(part):
            for i in part:
                try:
                    status, code = _post(port, token, keys[i], bodies[i])
                except OSError:
                    return  # the server is gone: this request and the rest are unacknowledged
                with lock:
                    if status == 201:
                        acked[keys[i]] = code
                    else:
                        refused.append((status, code))

        clients = [threading.Thread(target=client, args=(range(c, len(keys), 3),)) for c in range(3)]
        for t in clients:
            t.start()
        assert _wait(lambda: len(acked) >= 60, 120), (
            f"only {len(acked)} orders acknowledged; refused: {[r[0] for r in refused[:5]]}; log: {_log(env)}")
        os.killpg(server.pid, signal.SIGKILL)  # mid-load: the web workers die with requests in flight
        server.wait(10)
        for t in clients:
            t.join(60)
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert 60 <= len(acked) < len(keys), "the kill should come mid-load"

    # Restarted, every client retries everything it sent or meant to send, with the same keys.
    port = _free_port()
    server = _serve(env, port)
    try:
        assert _wait(lambda: _listening(port), 60), "the server did not come back"
        answers = {}
        for key, body in zip(keys, bodies, strict=True):
            status, code = _post(port, token, key, body)
            assert status == 201, (key, status)
            answers[key] = code
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)

    # A replay answers with the order it stands for: every acknowledged order is the same order.
    assert {k: answers[k] for k in acked} == acked
    state = json.loads(subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True,
                                      text=True, timeout=300, check=True).stdout)
    assert state["dupes"] == 0 and state["keys"] == len(keys) == state["orders"]
    assert set(acked.values()) <= set(state["codes"]) and len(set(answers.values())) == len(keys)
    # Every committed order's rollup note survived the kill; the worker's job applied them all.
    assert state["queued"] == len(keys) and state["left_in_queue"] == 0
    assert state["city_created"] == len(keys)
    Path(env["HUYING_VAR_DIR"], "done").write_text("ok")
