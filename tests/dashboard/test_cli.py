"""`run.py dashboard` through a subprocess: the command it serves with, and clear refusals."""

from __future__ import annotations

import socket
import sys

from tests.conftest import ROOT


def test_the_dashboard_is_streamlit_run_headless_on_loopback_by_default(cli):
    out = cli("dashboard", "--print-command")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "app.py"),
        "--server.headless=true", "--server.address=127.0.0.1", "--server.port=8501",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        "--global.developmentMode=false", "--client.toolbarMode=viewer"]


def test_host_and_port_are_passed_on(cli):
    out = cli("dashboard", "--host", "0.0.0.0", "--port", "9000", "--print-command")
    assert "--server.address=0.0.0.0" in out.stdout and "--server.port=9000" in out.stdout


def test_a_port_out_of_range_is_refused_before_anything_starts(cli):
    out = cli("dashboard", "--port", "70000")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --port must be from 1 to 65535, got 70000"


def test_a_port_in_use_is_refused_with_what_to_do(cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = cli("dashboard", "--port", str(port))
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}: ")
    assert "pick another --port" in out.stderr
