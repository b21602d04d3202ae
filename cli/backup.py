"""`run.py backup` and `run.py restore`: a consistent copy of a running service's data folder."""

from __future__ import annotations

import argparse

from cli import add_format, emit


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `backup` and `restore` subcommands."""
    b = sub.add_parser(
        "backup", help="copy a live service's data folder into one owner-only file, while it runs",
        description="Back up the data folder of `run.py serve` while the service runs: each SQLite "
        "store through SQLite's online backup API (a consistent copy of each store), or pg_dump of "
        "the folder's PostgreSQL schemas (--store DSN), plus the manifest, credentials and secrets, "
        "into one .tar.gz written owner-only (0600). Never overwrites a file.")
    b.add_argument("--data", required=True, help="the service's data folder")
    b.add_argument("--to", required=True, help="the backup file to write (e.g. drill-0900.tar.gz)")
    b.add_argument("--store", default=None, help="the postgresql:// DSN, for a PostgreSQL folder")
    add_format(b)
    b.set_defaults(func=run_backup)
    r = sub.add_parser(
        "restore", help="restore a backup into a new data folder (then `run.py serve --data` it)",
        description="Restore a file made by `run.py backup` into a new or empty data folder (0700); "
        "nothing already there is overwritten. A PostgreSQL backup needs --store: a database where "
        "the folder's schemas do not exist yet. Then start the service on the folder with the same "
        "city, seed, scale and design: `run.py serve --data FOLDER ...`.")
    r.add_argument("--from", dest="source", required=True, help="the backup file")
    r.add_argument("--data", required=True, help="the new data folder")
    r.add_argument("--store", default=None, help="the postgresql:// DSN, for a PostgreSQL backup")
    add_format(r)
    r.set_defaults(func=run_restore)


def _text(verb: str, info) -> str:
    return (f"{verb} {len(info.stores)} store(s) and {len(info.files)} other file(s) "
            f"({info.store_kind}) {'to' if verb == 'backed up' else 'into'} {info.path} "
            f"in {info.seconds:.1f} s")


def run_backup(args: argparse.Namespace) -> int:
    """Write the backup and say what it holds."""
    from actors.backup import backup

    info = backup(args.data, args.to, args.store)
    emit(info.to_dict(), args.format, _text("backed up", info))
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Restore the backup and say what it restored."""
    from actors.backup import restore

    info = restore(args.source, args.data, args.store)
    emit(info.to_dict(), args.format, _text("restored", info))
    return 0
