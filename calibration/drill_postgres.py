"""A drill's shelter journals from PostgreSQL: the schemas `run.py serve --store postgresql://...` wrote.

Each shelter-group store is a schema `myna_<instance>_shelters_<N>` (`actors.stores.schema_of`)
holding the same `twin_journal` and `twin_answers` tables as a SQLite data folder. The reader
connects read-only and takes every group in one repeatable-read transaction (a consistent
snapshot while the service goes on writing). Messages name the host, never the password.
"""

from __future__ import annotations

import re
from pathlib import Path

from twin.errors import ValidationError

_SCHEMA = re.compile(r"^myna_([a-z0-9]+)_shelters_(\d+)$")
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")
Journals = dict[int, tuple[list[tuple[str, str]], list[str]]]


def is_dsn(source: str | Path) -> bool:
    """Whether a --from-drill argument is a PostgreSQL connection URL rather than a folder."""
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("postgresql", "postgres")


def where(dsn: str) -> str:
    """host:port/database of a DSN, for messages (no user, no password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg.ProgrammingError; its text may echo the DSN
        shown = _PASSWORD.sub(r"\1***@", dsn)
        raise ValidationError(f"--from-drill {shown} is not a valid PostgreSQL "
                              "connection URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)") from None
    return f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/{parts.get('dbname') or '(default)'}"


def _scrub(text: str, dsn: str) -> str:
    """A driver message with the DSN's password (if any) blanked out."""
    from psycopg.conninfo import conninfo_to_dict

    password = str(conninfo_to_dict(dsn).get("password") or "")
    return text.replace(password, "***") if password else text


def read_journals(dsn: str, instance: str | None = None, connect_timeout: int = 5) -> tuple[str, Journals]:
    """(label, per group: check-in commands and answers) of one service's shelter schemas."""
    import psycopg

    from calibration.drill import JOURNAL_OPS

    place = where(dsn)
    try:
        conn = psycopg.connect(dsn, connect_timeout=connect_timeout)
    except psycopg.Error as exc:
        msg = _scrub(str(exc).strip() or type(exc).__name__, dsn)
        raise ValidationError(f"cannot connect to PostgreSQL at {place}: {msg}") from None
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            names = [n for (n,) in conn.execute("SELECT nspname FROM pg_namespace ORDER BY nspname")]
            chosen, groups = _pick(place, names, instance)
            out: Journals = {}
            for group in groups:
                schema = f"myna_{chosen}_shelters_{group}"
                try:
                    rows = conn.execute(f'SELECT op, body FROM "{schema}".twin_journal WHERE op IN {JOURNAL_OPS} '
                                        "ORDER BY seq").fetchall()
                    answers = [a for (a,) in conn.execute(f'SELECT answer FROM "{schema}".twin_answers')]
                except psycopg.Error as exc:
                    raise ValidationError(f"schema {schema} at {place} is not a readable shelter journal: "
                                          f"{_scrub(str(exc).strip(), dsn)}") from None
                out[group] = ([(str(op), str(body)) for op, body in rows], [str(a) for a in answers])
    finally:
        conn.close()
    return f"postgresql://{place}#myna_{chosen}_shelters_*", out


def _pick(place: str, schemas: list[str], instance: str | None) -> tuple[str, list[int]]:
    """The service instance to read and its shelter groups; a clear error when none or several fit."""
    found: dict[str, list[int]] = {}
    for name in schemas:
        if m := _SCHEMA.match(name):
            found.setdefault(m.group(1), []).append(int(m.group(2)))
    if not found:
        raise ValidationError(f"the database at {place} holds no shelter-group journals (schemas "
                              "myna_<instance>_shelters_N); is it the store of `run.py serve --store ...`?")
    if instance is None:
        if len(found) > 1:
            raise ValidationError(f"the database at {place} holds the journals of {len(found)} services "
                                  f"(instances {', '.join(sorted(found))}): choose one with --drill-instance")
        instance = next(iter(found))
    if instance not in found:
        raise ValidationError(f"the database at {place} holds no journals of instance {instance!r} "
                              f"(it holds {', '.join(sorted(found))})")
    return instance, sorted(found[instance])
