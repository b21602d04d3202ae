"""The durable register of issued documents (交付記録): one audit row per document number."""

from __future__ import annotations

import dataclasses
import operator

import polars as pl

from twin.clock import jst, local_date
from twin.services.certificate_rules import Document
from twin.store import Tx

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS certificate_documents (
        doc_no TEXT PRIMARY KEY, seq BIGINT NOT NULL UNIQUE, request_key TEXT NOT NULL UNIQUE,
        resident_id BIGINT NOT NULL, cert_type TEXT NOT NULL, copies BIGINT NOT NULL,
        channel TEXT NOT NULL, site BIGINT NOT NULL, window_no BIGINT NOT NULL,
        fee_yen BIGINT NOT NULL, fee_key TEXT NOT NULL, identity_method TEXT NOT NULL,
        assurance BIGINT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL)""",
)
COLUMNS = ("doc_no, request_key, resident_id, cert_type, copies, channel, site, window_no, fee_yen, "
           "fee_key, identity_method, assurance, status, reason, at")
_INT, _STR = pl.Int64, pl.Utf8
FRAME_SCHEMA = {"seq": _INT, "doc_no": _STR, "request_key": _STR, "resident_id": _INT, "cert_type": _STR,
                "copies": _INT, "channel": _STR, "site": _INT, "window_no": _INT, "fee_yen": _INT,
                "fee_key": _STR, "identity_method": _STR, "assurance": _INT, "status": _STR,
                "reason": _STR, "at": pl.Float64}
CHANNEL_LETTER = {"kiosk": "K", "counter": "C"}
_NAMES = tuple(f.name for f in dataclasses.fields(Document) if f.name != "replayed")  # the register's fields
_ROW = operator.attrgetter(*_NAMES)
_INSERT = f"INSERT INTO certificate_documents (seq, {COLUMNS}) VALUES ({', '.join('?' * (len(FRAME_SCHEMA)))})"


def find(tx: Tx, request_key: str) -> Document | None:
    """The document an earlier request with this key produced, or None."""
    rows = tx.query(f"SELECT {COLUMNS} FROM certificate_documents WHERE request_key = ?", (request_key,))
    return Document(*rows[0]) if rows else None


def get(tx: Tx, doc_no: str) -> Document | None:
    """A document by its number, or None."""
    rows = tx.query(f"SELECT {COLUMNS} FROM certificate_documents WHERE doc_no = ?", (doc_no,))
    return Document(*rows[0]) if rows else None


def number(tx: Tx, channel: str, now: float) -> tuple[int, str]:
    """The next sequence number and document number, e.g. (17, '2026-K000000017')."""
    seq = int(tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM certificate_documents")) + 1
    return seq, doc_no(seq, channel, now)


def doc_no(seq: int, channel: str, now: float) -> str:
    """The document number of sequence `seq` issued at `now` on a channel."""
    global _prefixes
    lo, hi, prefix = _prefixes
    if not lo <= now < hi:  # another year than the last number's: its prefixes
        year = year_of(now)
        prefix = {ch: f"{year}-{letter}" for ch, letter in CHANNEL_LETTER.items()}
        _prefixes = (*_year_span[:2], prefix)
    return f"{prefix[channel]}{seq:09d}"


_year_span = (0.0, 0.0, 0)  # instants surely in one JST year (a second inside it), and that year
_prefixes: tuple[float, float, dict[str, str]] = (0.0, 0.0, {})  # the same span, and each channel's number prefix


def year_of(now: float) -> int:
    """The JST calendar year of a POSIX instant, as `local_date(now).year` reads it."""
    global _year_span
    lo, hi, year = _year_span
    if lo <= now < hi:
        return year
    year = local_date(now).year
    # a whole second inside the year: rounding to the microsecond cannot carry an instant across it
    _year_span = (jst(year, 1, 1) + 1.0, jst(year + 1, 1, 1) - 1.0, year)
    return year


def add(tx: Tx, seq: int, doc: Document) -> None:
    """Write a document's audit row."""
    tx.execute(_INSERT, (seq, *_ROW(doc)))  # every field but `replayed` (astuple copies deeply: slow)


def add_many(tx: Tx, rows: list[tuple[int, Document | tuple]]) -> None:
    """Write many documents' audit rows (a document or its row), each with its sequence number, in order."""
    tx.executemany(_INSERT, [(seq, *(doc if type(doc) is tuple else _ROW(doc))) for seq, doc in rows])


def void(tx: Tx, doc_no: str, reason: str) -> None:
    """Mark a document voided (its paper never came out), keeping the row."""
    tx.execute("UPDATE certificate_documents SET status = 'voided', reason = ? WHERE doc_no = ?", (reason, doc_no))


def frame(tx: Tx) -> pl.DataFrame:
    """Every audit row, in issue order."""
    return rows_frame(tx.query(f"SELECT seq, {COLUMNS} FROM certificate_documents ORDER BY seq"))


def columns_frame(seqs: list[int], docs: list[Document | tuple]) -> pl.DataFrame:
    """The register's frame from the sequence numbers and the documents (or their register rows) as two columns."""
    rows = [d if type(d) is tuple else _ROW(d) for d in docs]
    return _frame([seqs, *zip(*rows, strict=True)] if rows else [()] * len(FRAME_SCHEMA))  # a field at a time


def rows_frame(rows: list[tuple]) -> pl.DataFrame:
    """Audit rows (sequence number first, then `COLUMNS`) as the register's frame."""
    return _frame(list(zip(*rows, strict=True)) if rows else [()] * len(FRAME_SCHEMA))  # column-wise: faster


def _frame(cols: list) -> pl.DataFrame:
    """The register's frame from its columns (`FRAME_SCHEMA`'s order)."""
    return pl.DataFrame([pl.Series(name, col, dtype=dtype)
                         for (name, dtype), col in zip(FRAME_SCHEMA.items(), cols, strict=True)])
