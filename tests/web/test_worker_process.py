"""`huying serve --with-worker` in real processes: the worker it starts goes when the server goes."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper that never comes in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(cond, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A migrated SQLite database of its own, so the worker runs real rounds (about 15 s, once)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUYING_DEBUG"}}
    env.update(HUYING_VAR_DIR=str(tmp_path_factory.mktemp("var")), HUYING_SECRET_KEY="test-" + "k" * 60,
               PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-m", "huying.cli", "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    return env


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["term", "int", "kill"])
def test_the_worker_stops_when_the_server_stops(env, stop):
    log = Path(env["HUYING_VAR_DIR"]) / "worker.log"
    log.unlink(missing_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "huying.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--with-worker",
         "--workers", "1", "--threads", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    worker = None
    try:
        for line in server.stdout:
            if line.startswith("worker: pid "):
                worker = int(line.split()[2].rstrip(","))
                break
        assert worker is not None, "serve did not start a worker"
        assert _wait(lambda: _listening(port), 60), "the server did not come up"
        assert _wait(lambda: log.exists() and "deadlines: " in log.read_text(), 30), "the worker ran no round"
        assert _running(worker)
        # A signal to the server alone (not its process group, as Ctrl-C would): the worker must notice.
        server.send_signal(stop)
        server.wait(30)
        assert _wait(lambda: not _running(worker), 15), f"worker {worker} outlived the server ({stop.name})"
    finally:
        # Whatever is left of the session this test started (a killed gunicorn's orphaned web worker,
        # or a worker that failed the test), by its process group id.
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.stdout.close()
        server.wait(10)
    text = log.read_text()
    assert "failed (" not in text and "Traceback" not in text  # no job failed
