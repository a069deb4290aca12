"""`/healthz` for a load balancer: 200 only when the database answers and takes writes."""

import pytest
from django.db import DatabaseError

from huying.web import health

pytestmark = pytest.mark.django_db


def test_healthy(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in r["Cache-Control"]
    assert not r.cookies  # nothing to sign in, nothing set


def test_a_database_that_does_not_answer_takes_the_instance_out(client, monkeypatch, caplog):
    class Broken:
        vendor = "postgresql"

        def cursor(self):
            raise DatabaseError("connection refused: secret detail")

    monkeypatch.setattr(health, "connections", {"default": Broken()})
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["database"] == "unreachable"
    assert "secret detail" not in caplog.text and "secret detail" not in r.content.decode()


def test_a_standby_takes_the_instance_out(client, monkeypatch):
    class Cursor:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def execute(self, sql):
            assert "pg_is_in_recovery" in sql

        def fetchone(self):
            return (True,)

    class Standby:
        vendor = "postgresql"

        def cursor(self):
            return Cursor()

    monkeypatch.setattr(health, "connections", {"default": Standby()})
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["database"] == "read-only"


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
