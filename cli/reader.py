"""`run.py reader`: run a PC/SC card reader at a shelter or kiosk against the live endpoints."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from cli import add_format
from twin.errors import ValidationError

TOKEN_ENV, TOKEN_FILE_ENV, DEVICE_ENV = "MYNA_DEVICE_TOKEN", "MYNA_DEVICE_TOKEN_FILE", "MYNA_DEVICE_ID"
EXIT_OK, EXIT_PENDING = 0, 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `reader` subcommand."""
    p = sub.add_parser(
        "reader",
        help="run a PC/SC card reader (shelter check-in, school child watch, kiosk authentication)",
        description="Watch the PC/SC card readers (a real reader such as a Sony PaSoRi, or vpcd's "
        "virtual ones), read each presented My Number card and post the tap to the live endpoints "
        "as this device. shelter: a PIN-less read (card serial and 4 basic items of a twin card; "
        "a real card's user certificate) recorded as a check-in or check-out. school: the same read "
        "recorded as a child-watch tap (the guardian is notified). kiosk: the user PIN "
        "and a signature over a fresh challenge. Every tap is first stored in a SQLite queue; while "
        "the endpoint is unreachable taps wait there and are sent, each exactly once, when it is "
        "back. Credentials: --device-id (or $MYNA_DEVICE_ID) and the token from --token-file, "
        "$MYNA_DEVICE_TOKEN_FILE or $MYNA_DEVICE_TOKEN. See docs/readers.md. Exit 0 when every "
        "tap was sent, 1 when taps remain queued, 2 on errors.",
    )
    p.add_argument("--role", required=True, choices=("shelter", "school", "kiosk"),
                   help="what this reader does")
    p.add_argument("--site", required=True, metavar="ID", help="the shelter or kiosk site id")
    p.add_argument("--endpoint", required=True, metavar="URL", help="base URL of the live endpoints")
    p.add_argument("--device-id", default=os.environ.get(DEVICE_ENV, ""),
                   help=f"this device's registered id (default: ${DEVICE_ENV})")
    p.add_argument("--token-file", type=Path, default=os.environ.get(TOKEN_FILE_ENV) or None,
                   help=f"file holding the device token (default: ${TOKEN_FILE_ENV}, else ${TOKEN_ENV})")
    p.add_argument("--kind", choices=("checkin", "checkout"), default="checkin",
                   help="shelter readers: record check-ins or check-outs (default: checkin)")
    p.add_argument("--queue", type=Path, default=None,
                   help="the SQLite tap queue (default: ./reader-DEVICE.sqlite)")
    p.add_argument("--pin-from", choices=("tty", "stdin"), default="tty",
                   help="kiosk readers: ask the PIN on the terminal or read one line per card from stdin")
    p.add_argument("--readers", default="", metavar="TEXT", help="only readers whose name contains TEXT")
    p.add_argument("--max-taps", type=int, default=None, help="stop after N taps are read and sent")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--sync-interval", type=float, default=5.0,
                   help="seconds between sends while taps are queued (doubles while offline, to 60)")
    p.add_argument("--sync-only", action="store_true", help="send the queued taps and exit")
    p.add_argument("--ca-file", type=Path, default=None, help="trust this CA for the endpoint's certificate "
                   "(a drill's ca.pem from `run.py devices issue`; default: the system's CAs)")
    p.add_argument("--cert", type=Path, default=None, help="this device's certificate (PEM) for an endpoint "
                   "that requires mutual TLS (`run.py serve --client-ca`); with --key")
    p.add_argument("--key", type=Path, default=None, help="the device certificate's private key (PEM)")
    add_format(p)
    p.set_defaults(func=run)


def _token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        try:
            return args.token_file.read_text().strip()
        except OSError as exc:
            raise ValidationError(f"cannot read the token file {args.token_file}: {exc.strerror}") from exc
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValidationError(f"no device token: give --token-file, ${TOKEN_FILE_ENV} or ${TOKEN_ENV}")
    return token


def _tls(args: argparse.Namespace):
    """The TLS context for the endpoint: the CA to trust and this device's certificate, from the flags."""
    import ssl

    if bool(args.cert) != bool(args.key):
        raise ValidationError("--cert and --key go together")
    if not (args.ca_file or args.cert):
        return True
    try:
        ctx = ssl.create_default_context(cafile=str(args.ca_file) if args.ca_file else None)
        if args.cert:
            ctx.load_cert_chain(str(args.cert), str(args.key))
    except (OSError, ssl.SSLError) as exc:
        raise ValidationError(f"cannot load the TLS files (--ca-file, --cert, --key): {exc}") from exc
    return ctx


def _pin_source(how: str):
    if how == "stdin":
        def from_stdin(reader: str) -> str | None:
            print(f"PIN for the card in {reader}?", file=sys.stderr, flush=True)
            line = sys.stdin.readline()
            return line.strip() or None
        return from_stdin
    return lambda reader: getpass.getpass(f"Enter the 4-digit PIN for the card in {reader}: ") or None


def _printer(fmt: str):
    def show(event) -> None:
        if fmt == "json":
            print(json.dumps(event.as_row(), ensure_ascii=False, sort_keys=True), flush=True)
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
        parts = [p for p in (event.reader, event.tap_id[:8], event.detail) if p]
        print(f"{stamp} {event.what.replace('_', ' '):<20} {'  '.join(parts)}", flush=True)
    return show


def _warn_plain_http(endpoint: str) -> None:
    host = urlparse(endpoint).hostname or ""
    if endpoint.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: {endpoint} is plain HTTP off this machine; the device token travels "
              "unencrypted — use https:// for a real deployment", file=sys.stderr)


def _check_pcsc() -> None:
    """Fail at once, with the fix, when there is no PC/SC service to watch."""
    from devices.pcsc import PcscContext

    PcscContext().close()


def run(args: argparse.Namespace) -> int:
    """Run the reader until stopped; print what happens; exit 1 if taps stay queued."""
    from devices.reader_client import ReaderClient, ReaderSettings
    from devices.tap_queue import TapQueue
    from devices.uplink import Uplink

    if not args.device_id:
        raise ValidationError(f"no device id: give --device-id or ${DEVICE_ENV}")
    kind = args.kind if args.role == "shelter" else ""  # school: childwatch; kiosk: kiosk_auth
    settings = ReaderSettings(args.role, args.site, args.device_id, kind, sync_interval=args.sync_interval,
                              max_backoff=max(60.0, args.sync_interval), reader_filter=args.readers)
    _warn_plain_http(args.endpoint)
    token = _token(args)
    tls = _tls(args)
    if not args.sync_only:
        _check_pcsc()
    queue = TapQueue(args.queue or Path(f"reader-{args.device_id}.sqlite"))
    uplink = Uplink(args.endpoint, args.device_id, token, timeout=3.0, verify=tls)
    pins = _pin_source(args.pin_from) if args.role == "kiosk" else None
    client = ReaderClient(settings, queue, uplink, pins, on_event=_printer(args.format))
    try:
        if not args.sync_only:
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            client.run(stop, max_taps=args.max_taps, duration=args.duration)
        client.sync()
        counts = queue.counts()
    finally:
        uplink.close()
        queue.close()
    summary = {"queue": str(queue.path), "pending": counts.pending, "synced": counts.synced,
               "rejected": counts.rejected}
    if args.format == "json":
        print(json.dumps({"summary": summary}, sort_keys=True), flush=True)
    else:
        print(f"queue {queue.path}: {counts.synced} sent, {counts.rejected} refused, {counts.pending} waiting")
    return EXIT_PENDING if counts.pending else EXIT_OK
