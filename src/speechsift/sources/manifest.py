"""The ``manifest`` source: a CSV, TSV or JSONL file, one row per clip.

The ``audio`` column holds a path relative to the manifest's folder (or an absolute one). Other
columns are recognized by their usual names, in any letter case (``sources.base.FIELD_ALIASES``),
or mapped with the recipe's ``fields``. Rows are read as text and never touch the audio, so
listing is cheap.

Reading is forgiving row by row and strict about the file as a whole:

- a ``.csv`` file's delimiter is sniffed from its header line (comma, semicolon, tab or pipe:
  whichever the header holds most of; spreadsheets in many locales write semicolons), ``.tsv``
  is tab-separated; ``delimiter`` overrides the sniffing;
- text is decoded as ``encoding`` (UTF-8 by default, a byte-order mark skipped); a row holding
  bytes that are not in that encoding is an ``undecodable_text`` reject whose message names the
  source's ``encoding:`` option;
- a row with a cell over ``MAX_CELL_CHARS`` characters is a ``cell_too_large`` reject, and a CSV
  row the parser cannot read at all is a ``bad_row`` reject; the rows after it are read;
- a manifest with no rows (0 bytes, only a header, only blank lines) is a ``CorpusError``, the
  same for all three, raised when the source is opened, before any work starts.

``read_rows`` is this reading with any row reader: the ``text`` source reads its files with it.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from speechsift.errors import CorpusError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow, RowReader

log = logging.getLogger(__name__)

# The largest cell a manifest row may hold: 128 Ki characters, the csv module's own default field
# limit. A transcript of a 30-minute clip is about 30 k characters; a bigger cell is not metadata
# (a file pasted into a cell, a quote that never closes) and would end up in every prompt.
MAX_CELL_CHARS = 131_072
# How far the CSV parser may read one field before it gives up on the row (a quote that never
# closes swallows the rest of the file): far above MAX_CELL_CHARS, so that our own check, not the
# parser, decides which rows are too large. The parser's limit is process-wide; it is only raised.
_PARSE_LIMIT = 64 * 2**20

DELIMITERS = (",", ";", "\t", "|")
DEFAULT_ENCODING = "utf-8"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file from its header line: the candidate it holds most of (comma on a tie)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals: the comma
    return best if counts[best] else ","


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; LookupError for an unknown one."""
    return codecs.lookup(encoding).name


def text_codec(encoding: str) -> str:
    """The codec to open a file with: UTF-8 skips a byte-order mark (spreadsheets write one), so it
    is not read into the first column name."""
    return "utf-8-sig" if check_encoding(encoding) == "utf-8" else encoding


def _open_text(path: Path, encoding: str) -> IO[str]:
    return path.open("r", encoding=text_codec(encoding), errors="surrogateescape", newline="")


def _has_undecodable(values: Sequence[Any]) -> bool:
    """True when a cell holds bytes the encoding could not decode (read back as lone surrogates)."""
    for value in values:
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class _Rows:
    """Rejects for the rows of one manifest, with the file, the row and the fix in each message."""

    def __init__(self, path: Path, source: str, encoding: str) -> None:
        self.path = path
        self.source = source
        self.encoding = encoding
        self.undecodable = 0

    def undecodable_row(self, number: int) -> RejectedRow:
        hint = (f"set `encoding:` on source {self.source!r} to the file's encoding (e.g. latin-1, cp1252, "
                "utf-16)")
        if not self.undecodable:  # once per source; rejects.jsonl has every row
            log.warning("%s: rows that are not %s text (the first is row %d); %s", self.path, self.encoding, number, hint)
        self.undecodable += 1
        return RejectedRow(f"{self.source}/row{number}", self.source, "undecodable_text",
                           f"{self.path} row {number} holds bytes that are not {self.encoding} text; {hint}")

    def too_large(self, number: int, columns: Sequence[str], values: Sequence[Any]) -> RejectedRow | None:
        """A ``cell_too_large`` reject when one of the row's cells is over MAX_CELL_CHARS, else None."""
        for column, value in zip(columns, values):
            size = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False, default=str))
            if size > MAX_CELL_CHARS:
                return RejectedRow(
                    f"{self.source}/row{number}", self.source, "cell_too_large",
                    f"{self.path} row {number}: column {column!r} holds {size:,} characters, more than the "
                    f"{MAX_CELL_CHARS:,} a manifest cell may hold; shorten it or move the content to a file",
                )
        return None

    def bad_row(self, number: int, what: str) -> RejectedRow:
        return RejectedRow(f"{self.source}/row{number}", self.source, "bad_row", f"{self.path} row {number}: {what}")


def _empty(path: Path, what: str) -> CorpusError:
    return CorpusError(f"{path}: the file {what}, so it holds no rows; add rows or remove the source from the recipe.")


def _csv_rows(handle: IO[str], delimiter: str) -> Any:
    csv.field_size_limit(max(csv.field_size_limit(), _PARSE_LIMIT))
    return csv.reader(handle, delimiter=delimiter)


def _csv_header(path: Path, encoding: str, delimiter: str | None) -> tuple[list[str], str]:
    """The header and the delimiter; CorpusError when there is no data row after the header."""
    with _open_text(path, encoding) as handle:
        first = handle.readline()
        if not first.strip():
            raise _empty(path, "is empty" if not first else "has no header row")
        delimiter = delimiter or ("\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(first))
        handle.seek(0)
        rows = _csv_rows(handle, delimiter)
        header = next(rows)
        try:
            if not any(any(cell.strip() for cell in row) for row in rows):
                raise _empty(path, "has a header and no rows")
        except csv.Error:
            pass  # a row the parser cannot read: the rows are there; reading rejects it
    return header, delimiter


def _csv_clips(path: Path, reader: RowReader, encoding: str, delimiter: str, rows_of: _Rows) -> Iterator[Clip | RejectedRow]:
    with _open_text(path, encoding) as handle:
        rows = _csv_rows(handle, delimiter)
        header = next(rows)
        clip = reader.clip
        number = 0
        while True:
            try:
                for number, values in enumerate(rows, start=number + 1):
                    if not values:
                        continue
                    joined = "".join(values)
                    if len(joined) > MAX_CELL_CHARS and (refused := rows_of.too_large(number, header, values)):
                        yield refused
                        continue
                    if not joined.isascii() and _has_undecodable(values):  # an ASCII row: one check in C
                        yield rows_of.undecodable_row(number)
                        continue
                    yield clip(values, number)
                break
            except csv.Error as exc:  # the parser gave up on this row; it goes on with the next line
                number += 1
                yield rows_of.bad_row(number, f"the CSV parser cannot read it ({exc}); fix or remove the row")


def _jsonl_header(path: Path, encoding: str, sample: int = 100) -> list[str]:
    """The union of the keys of the first rows: enough to resolve columns (later rows may omit some);
    CorpusError when the file holds no row."""
    header: list[str] = []
    rows = 0
    with _open_text(path, encoding) as handle:
        for line in handle:
            if not line.strip():
                continue
            rows += 1
            if rows > sample:
                break
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                header.extend(k for k in obj if k not in header)
    if not rows:
        raise _empty(path, "is empty" if path.stat().st_size == 0 else "has only blank lines")
    return header


def _jsonl_clips(path: Path, reader: RowReader, encoding: str, rows_of: _Rows) -> Iterator[Clip | RejectedRow]:
    with _open_text(path, encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if not line.isascii() and _has_undecodable([line]):
                yield rows_of.undecodable_row(number)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict):
                yield rows_of.bad_row(number, "the line is not a JSON object")
                continue
            if len(line) > MAX_CELL_CHARS and (refused := rows_of.too_large(number, list(obj), list(obj.values()))):
                yield refused
                continue
            yield reader.clip(reader.values(obj), number)


def read_rows(
    path: Path, make_reader: Callable[[list[str]], RowReader], *, source: str, encoding: str = DEFAULT_ENCODING,
    delimiter: str | None = None,
) -> Iterator[Clip | RejectedRow]:
    """The rows of a CSV/TSV/JSONL file through the row reader ``make_reader(header)`` builds (the
    manifest and text sources' own): each a Clip or a RejectedRow.

    The header is read and the columns resolved here, so an empty file, a missing audio column or
    an unknown field raise CorpusError when the source is opened, before any work.
    """
    try:
        check_encoding(encoding)
    except LookupError:
        raise CorpusError(f"{path}: unknown encoding {encoding!r} (source {source!r}); use a Python codec name "
                          "such as utf-8, latin-1, cp1252 or utf-16.") from None
    rows_of = _Rows(path, source, encoding)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _jsonl_clips(path, make_reader(_jsonl_header(path, encoding)), encoding, rows_of)
    if suffix in (".csv", ".tsv"):
        header, delimiter = _csv_header(path, encoding, delimiter)
        return _csv_clips(path, make_reader(header), encoding, delimiter, rows_of)
    raise CorpusError(f"{path}: a manifest is a .csv, .tsv or .jsonl file (source {source!r}).")


def read_manifest(
    path: str | Path, *, source: str, language: str | None = None, fields: dict[str, str] | None = None,
    encoding: str = DEFAULT_ENCODING, delimiter: str | None = None,
) -> Iterator[Clip | RejectedRow]:
    """Clips from a CSV/TSV/JSONL manifest; unreadable rows come out as ``RejectedRow``s.

    Args:
        path: the manifest file (``.csv``, ``.tsv``, ``.jsonl``/``.json``/``.ndjson``).
        source: the source name: clip ids are ``<source>/<id>``.
        language: the language of rows without a language column.
        fields: our field -> the manifest's column name, over the usual names.
        encoding: the text encoding (any Python codec name).
        delimiter: a CSV delimiter instead of the sniffed one.

    Raises:
        CorpusError: the file is missing, of another kind, empty or without rows, or lacks an
            audio column; raised here, when the source is opened, not when rows are read.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: manifest not found (source {source!r}); check sources[].path.")
    base_dir = str(path.resolve().parent)

    def make_reader(header: list[str]) -> RowReader:
        return RowReader(header, fields or {}, str(path), source=source, language=language, base_dir=base_dir)

    return read_rows(path, make_reader, source=source, encoding=encoding, delimiter=delimiter)


__all__ = ["DELIMITERS", "MAX_CELL_CHARS", "read_manifest", "read_rows", "sniff_delimiter"]
