"""`run.py dashboard`: serve the planners' Streamlit page (dashboards/app.py) headless."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from twin.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "app.py"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dashboard` subcommand."""
    p = sub.add_parser(
        "dashboard",
        help="serve the planners' Streamlit dashboard to compare designs",
        description="Serve the planners' dashboard: pick a city and two or more designs, run the "
        "disaster, certificates and payments scenarios with replications, and compare KPIs with "
        "95 % confidence intervals, plots, a map and the review (benefits beside costs); export a report. "
        "Runs `streamlit run dashboards/app.py` headless; open the printed URL in a browser. "
        "Stop it with Ctrl+C.",
    )
    p.add_argument("--port", type=int, default=8501, help="TCP port (default: 8501)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; "
                   "0.0.0.0 serves every interface)")
    p.add_argument("--print-command", action="store_true",
                   help="print the streamlit command line and exit without serving")
    p.set_defaults(func=run)


def streamlit_command(host: str, port: int) -> list[str]:
    """The command serving the page: headless, no usage statistics, watcher or developer menu."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless=true", f"--server.address={host}", f"--server.port={port}",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
            "--global.developmentMode=false", "--client.toolbarMode=viewer"]


def check_port_free(host: str, port: int) -> None:
    """Raise a ValidationError when the port is out of range or already taken on `host`."""
    if not 1 <= port <= 65535:
        raise ValidationError(f"--port must be from 1 to 65535, got {port}")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ValidationError(f"cannot serve on {host}:{port}: {exc.strerror}; pick another "
                                  "--port (or stop what is using it)") from None


def run(args: argparse.Namespace) -> int:
    """Check the address, then replace this process with the Streamlit server."""
    cmd = streamlit_command(args.host, args.port)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    check_port_free(args.host, args.port)
    shown = "localhost" if args.host in ("127.0.0.1", "::1") else args.host
    print(f"dashboard: http://{shown}:{args.port}  (Ctrl+C stops it)", file=sys.stderr, flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    os.chdir(ROOT)
    os.execve(sys.executable, cmd, env)
    return 0  # not reached: execve replaces the process
