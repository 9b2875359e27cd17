"""The request ledger: every answered LLM request, keyed by a hash of its whole payload.

An SQLite file in WAL mode. The key (``ChatRequest.key``) covers backend kind, model, messages,
sampling parameters and sample index, so a rerun, a resumed run, or another recipe asking the same
thing gets the stored answer instead of asking again. Only successful completions are stored:
failures are asked again next time. One object owns the connection; the generation loop is its
only writer.

A file that is not an SQLite ledger, a damaged one or one that cannot be written stops the run with
a ``LedgerError`` naming the file and the fix, whenever SQLite notices it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError
from speechsift.llm.types import Completion

SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
)
"""
_LOOKUP_CHUNK = 500  # stays under SQLite's bound-parameter limit


class LedgerError(ConfigError):
    """The ledger file cannot be used: not SQLite, damaged, or not writable."""


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._guard():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process kills in WAL mode
                self._db.execute(SCHEMA)
                # a table of another shape under our name is not a ledger either
                self._db.execute("SELECT key, text, finish_reason, prompt_tokens, completion_tokens FROM completions LIMIT 1")
            except BaseException:
                self._db.close()
                raise

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's and the file system's errors as one paragraph naming the file and the fix."""
        try:
            yield
        except (sqlite3.DatabaseError, OSError) as exc:
            raise LedgerError(
                f"{self.path}: the request ledger cannot be used ({type(exc).__name__}: {exc}). If it is not a "
                f"speechsift ledger or it is damaged, move it aside (the answers in it will be asked again) or set "
                f"llm.ledger to another file; if it is read-only, make it writable; `--no-cache` runs without a ledger."
            ) from None

    def lookup(self, keys: Iterable[str]) -> dict[str, Completion]:
        """The stored completions among ``keys``; each one found counts as a hit."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Completion] = {}
        with self._guard():
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, text, finish_reason, prompt_tokens, completion_tokens FROM completions WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, text, finish_reason, prompt_tokens, completion_tokens in rows:
                    found[key] = Completion(
                        text=text, finish_reason=finish_reason, prompt_tokens=prompt_tokens,
                        completion_tokens=completion_tokens,
                    )
            if found:
                self._db.executemany("UPDATE completions SET hits = hits + 1 WHERE key = ?", [(k,) for k in found])
        return found

    def record(self, key: str, backend: str, model: str | None, completion: Completion) -> None:
        """Store one successful completion, committed before the call returns."""
        if not completion.ok:
            return
        with self._guard():
            self._db.execute(
                "INSERT OR REPLACE INTO completions (key, backend, model, text, finish_reason, prompt_tokens,"
                " completion_tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, backend, model, completion.text, completion.finish_reason, completion.prompt_tokens,
                 completion.completion_tokens, time.time()),
            )

    def keys(self) -> set[str]:
        with self._guard():
            return {row[0] for row in self._db.execute("SELECT key FROM completions")}

    def stats(self) -> dict[str, Any]:
        with self._guard():
            entries, hits, tokens_in, tokens_out = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(hits), 0), COALESCE(SUM(prompt_tokens), 0),"
                " COALESCE(SUM(completion_tokens), 0) FROM completions"
            ).fetchone()
            by_model = [
                {"backend": b, "model": m, "entries": n, "hits": h}
                for b, m, n, h in self._db.execute(
                    "SELECT backend, model, COUNT(*), SUM(hits) FROM completions GROUP BY backend, model ORDER BY 3 DESC"
                )
            ]
        return {
            "path": str(self.path),
            "entries": entries,
            "hits": hits,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "by_model": by_model,
        }

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
