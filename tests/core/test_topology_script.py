"""The failover drill's files do not rot: scripts/topology.sh parses, bench/failover.py answers --help.

The drill itself (two PostgreSQL clusters, HAProxy, four app processes) is run by hand, not in CI:
`bash scripts/topology.sh up && .venv/bin/python bench/failover.py && bash scripts/topology.sh down`
(docs/topology.md).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "topology.sh"
DRILL = ROOT / "bench" / "failover.py"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_topology_script_parses():
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_topology_script_refuses_an_unknown_command():
    proc = subprocess.run(["bash", str(SCRIPT), "sideways"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "up|down|status" in proc.stderr


def test_topology_script_documents_its_ports():
    text = SCRIPT.read_text("utf-8")
    doc = (ROOT / "docs" / "topology.md").read_text("utf-8")
    for port in ("5442", "5443", "8100", "8101", "8102", "8109"):
        assert port in text and port in doc, port


def test_failover_help_runs():
    proc = subprocess.run([sys.executable, str(DRILL), "--help"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "--orders" in proc.stdout and "--clients" in proc.stdout
