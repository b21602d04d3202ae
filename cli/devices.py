"""`run.py devices issue`: a drill's device PKI (CA, the service's TLS certificate, device certificates)."""

from __future__ import annotations

import argparse

from cli import add_format, emit


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `devices` subcommand."""
    p = sub.add_parser("devices", help="device certificates for a drill over TLS",
                       description="Tools for the devices of a drill (readers, kiosks, counters, HQ).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    i = verbs.add_parser(
        "issue", help="make a CA, the service's TLS certificate and one certificate per device",
        description="Write a small PKI for a drill into --out (folder 0700, private keys 0600; nothing "
        "is overwritten): ca.pem/ca.key, server.pem/server.key for --host names (give them to "
        "`run.py serve --tls-cert server.pem --tls-key server.key`), and DEVICE.pem/DEVICE.key per "
        "device (subject CN = the device id), valid 30 days. Devices come from --device or from a "
        "service data folder's credentials.json (--data).")
    i.add_argument("--out", required=True, help="folder to write the PKI into")
    i.add_argument("--device", action="append", default=[], metavar="ID", help="a device id (repeatable)")
    i.add_argument("--data", default=None, help="take every device id from this data folder")
    i.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a name or address the service is reached at (repeatable; default: localhost "
                   "and 127.0.0.1)")
    add_format(i)
    i.set_defaults(func=run_issue)


def run_issue(args: argparse.Namespace) -> int:
    """Issue the certificates and list the files."""
    from actors.device_pki import device_ids_from, issue
    from twin.errors import ValidationError

    devices = list(args.device) + (device_ids_from(args.data) if args.data else [])
    if not devices:
        raise ValidationError("no devices: give --device ID (repeatable) or --data FOLDER")
    files = issue(args.out, devices, tuple(args.host) or ("localhost", "127.0.0.1"))
    text = (f"wrote a CA, the server certificate and {len(files) - 2} device certificate(s) to {args.out}\n"
            f"  serve with: run.py serve --tls-cert {files['server']['cert']} --tls-key "
            f"{files['server']['key']}")
    emit(files, args.format, text)
    return 0
