"""The scorer contract: a scorer adds named columns to ``example.quality`` and never drops anything.

The base owns the plumbing (looping, batching, failure isolation); a scorer implements one method:
``score`` for one example at a time, or ``score_batch`` when it is cheaper to work on many at once
(a model forward pass, LLM requests). A scorer that raises on one example records
``quality["<name>_error"] = "<ExceptionType>: <message>"`` for that example and the run goes on;
a batch that raises is retried one example at a time so that only the culprit gets the error.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar, Literal

from speechsift.curate.text import ResponseText
from speechsift.records import Example

ColumnType = Literal["float", "bool", "str"]
Scores = dict[str, Any]

log = logging.getLogger("speechsift.curate")

_MAX_ERROR_CHARS = 300


def describe_error(exc: BaseException) -> str:
    message = str(exc).strip().replace("\n", " ")
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:_MAX_ERROR_CHARS]


# Scores a scorer keeps by ``memo_key`` (emptied when full): a few tens of MB at most.
MEMO_SIZE = 50_000


class Scorer:
    """One concern's scores. Subclasses set ``name`` and ``columns`` and implement ``score`` or
    ``score_batch``; every column a scorer returns must be declared in ``columns`` (the Parquet
    writer gives every part one schema from them). A column it cannot fill is left out (null)."""

    name: ClassVar[str]
    columns: ClassVar[dict[str, ColumnType]]
    _memo: dict[Hashable, Scores] | None = None  # by memo_key, made on first use

    @property
    def error_column(self) -> str:
        return f"{self.name}_error"

    def score(self, example: Example, text: ResponseText) -> Scores:
        """The columns for one example."""
        raise NotImplementedError

    def memo_key(self, example: Example, text: ResponseText) -> Hashable | None:
        """Everything ``score`` reads, when that is less than the whole example: examples with
        equal keys get the same columns, scored once (a closed-ended answer or a template's
        instruction is the same few words across a corpus). None (the default): score each one."""
        return None

    def score_batch(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> list[Scores]:
        """The columns for each example, in order (default: ``score`` one by one)."""
        return [self.score(example, text) for example, text in zip(examples, texts)]

    # --- plumbing (not overridden) --------------------------------------------------------------

    def run(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> int:
        """Score ``examples`` into their ``quality`` dicts; returns how many failed."""
        if type(self).score_batch is Scorer.score_batch:
            return self._run_one_by_one(examples, texts)
        try:
            results = self.score_batch(examples, texts)
            if len(results) != len(examples):
                raise RuntimeError(f"{self.name} returned {len(results)} results for {len(examples)} examples")
        except Exception as exc:  # noqa: BLE001 - isolate the culprit below
            if len(examples) == 1:
                self._record_error(examples[0], exc)
                return 1
            log.warning("curate: scorer %s failed on a batch of %d (%s); retrying one by one",
                        self.name, len(examples), describe_error(exc))
            failed = 0
            for example, text in zip(examples, texts):
                try:
                    [result] = self.score_batch([example], [text])
                except Exception as one_exc:  # noqa: BLE001
                    self._record_error(example, one_exc)
                    failed += 1
                else:
                    self._store(example, result)
            return failed
        for example, result in zip(examples, results):
            self._store(example, result)
        return 0

    def _run_one_by_one(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> int:
        failed = 0
        score = self.score
        error_column = self.error_column
        memoized = type(self).memo_key is not Scorer.memo_key
        if memoized and self._memo is None:
            self._memo = {}
        memo = self._memo
        for example, text in zip(examples, texts):
            key = self.memo_key(example, text) if memoized else None
            result = memo.get(key) if key is not None else None
            if result is None:
                try:
                    result = score(example, text)
                except Exception as exc:  # noqa: BLE001 - one bad example must not stop the run
                    self._record_error(example, exc)
                    failed += 1
                    continue
                if key is not None:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[key] = result
            quality = example.quality
            if error_column in quality:
                del quality[error_column]
            quality.update(result)
        return failed

    def _store(self, example: Example, result: Scores) -> None:
        quality = example.quality
        quality.pop(self.error_column, None)
        quality.update(result)

    def _record_error(self, example: Example, exc: BaseException) -> None:
        for column in self.columns:
            example.quality.pop(column, None)
        example.quality[self.error_column] = describe_error(exc)


def declared_columns(scorer_types: Sequence[type[Scorer]]) -> dict[str, ColumnType]:
    """Every column of ``scorer_types``, and each one's error column, in declaration order."""
    columns: dict[str, ColumnType] = {}
    for scorer in scorer_types:
        for name, kind in scorer.columns.items():
            if name in columns:
                raise ValueError(f"quality column {name!r} is declared twice")
            columns[name] = kind
    for scorer in scorer_types:
        columns[f"{scorer.name}_error"] = "str"
    return columns
