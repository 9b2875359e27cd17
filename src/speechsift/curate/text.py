"""What every scorer reads: one example's response, prepared once (``ResponseText``), plus the
small text helpers the scorers share (word splitting, quoted spans, normalization for hashing)
and the loader for the data tables under ``speechsift/data/curate``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from speechsift.records import Example

# Words: letters and digits, with inner apostrophes and hyphens kept ("don't", "middle-aged").
WORD = re.compile(r"\w+(?:['\u2019\-&]\w+)*")

# Quoted spans: straight and curly double quotes, guillemets, low-high German quotes. Single
# quotes are left alone: they are apostrophes far more often than quotation marks.
QUOTED = re.compile(r'"([^"\n]{1,1000})"|\u201c([^\u201d\n]{1,1000})\u201d|\u00ab\s?([^\u00bb\n]{1,1000}?)\s?\u00bb'
                    r'|\u201e([^\u201c\u201d\n]{1,1000})[\u201c\u201d]')

DATA_PACKAGE = ("speechsift", "data", "curate")


# What curation reads of an example's task (``speechsift.tasks.base``), imported on first use: the
# tasks import curate's config (through the recipe), so curate cannot import them at import time.


def written_text(example: Example) -> str:
    """The text a backend (or the corpus) wrote: the response, or an audio target's instruction."""
    from speechsift.tasks.base import written_text as text_of

    return text_of(example)


def written_language(example: Example) -> str | None:
    """The language ``written_text`` should be in (``tasks.base.written_language``)."""
    from speechsift.tasks.base import written_language as language_of

    return language_of(example)


def is_audio_target(example: Example) -> bool:
    """Whether the example's target is audio (``Task.audio_target``)."""
    from speechsift.tasks.base import is_audio_target as audio

    return audio(example)


def target_from_clip(example: Example) -> bool:
    """Whether the example's target follows from its clip alone (``tasks.base.target_from_clip``)."""
    from speechsift.tasks.base import target_from_clip as from_clip

    return from_clip(example)


class ResponseText:
    """One example's response, prepared once and shared by every scorer.

    For an example whose target is audio (controllable generation), the text scored is the
    instruction: the text a backend wrote (``tasks.base.written_text``).

    ``text`` is the response cut to ``max_chars`` (expensive scorers never see more: a runaway
    answer costs no more than a long one); ``full_chars`` and ``full_words`` describe the whole
    response. ``lower``, ``words`` and ``unquoted_lower`` are computed on first use.
    """

    __slots__ = (
        "_lower",
        "_quotes",
        "_unquoted",
        "_unquoted_words",
        "_words",
        "capped",
        "empty",
        "example",
        "raw",
        "text",
    )

    def __init__(self, example: Example, max_chars: int) -> None:
        self.example = example
        raw = written_text(example)
        self.raw = raw
        self.capped = len(raw) > max_chars
        self.text = raw[:max_chars] if self.capped else raw
        self.empty = not raw or raw.isspace()  # no response, or only whitespace
        self._lower: str | None = None
        self._words: list[str] | None = None
        self._unquoted: str | None = None
        self._unquoted_words: list[str] | None = None
        self._quotes: list[str] | None = None

    @property
    def lower(self) -> str:
        """Lower-cased, curly apostrophes straightened."""
        if self._lower is None:
            lower = self.text.lower()
            self._lower = lower.replace("\u2019", "'") if "\u2019" in lower else lower
        return self._lower

    @property
    def words(self) -> list[str]:
        """Lower-cased words of the (capped) text."""
        if self._words is None:
            self._words = WORD.findall(self.lower)
        return self._words

    @property
    def quotes(self) -> list[str]:
        """The double-quoted spans of the text, in order."""
        if self._quotes is None:
            self._quotes = quoted_spans(self.text)
        return self._quotes

    @property
    def unquoted_lower(self) -> str:
        """The lower-cased text with every quoted span blanked: the response's own words only.

        A description that quotes the speaker ("saying \\"she left the label on\\"") must not be
        judged by the words it quotes.
        """
        if self._unquoted is None:
            lower = self.lower
            self._unquoted = QUOTED.sub(" ", lower) if _has_quote(lower) else lower
        return self._unquoted

    @property
    def unquoted_words(self) -> list[str]:
        """The words of ``unquoted_lower``."""
        if self._unquoted_words is None:
            unquoted = self.unquoted_lower
            self._unquoted_words = self.words if unquoted is self.lower else WORD.findall(unquoted)
        return self._unquoted_words


def _has_quote(text: str) -> bool:
    return '"' in text or "\u201c" in text or "\u00ab" in text or "\u201e" in text


def quoted_spans(text: str) -> list[str]:
    """Every double-quoted span of ``text`` (quote marks removed)."""
    if not _has_quote(text):
        return []
    return [next(g for g in match.groups() if g is not None) for match in QUOTED.finditer(text)]


def normalize_words(text: str) -> list[str]:
    """Words for comparing texts: NFKC, case-folded, curly apostrophes straightened, no punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return WORD.findall(text)


def normalize_for_hash(text: str) -> str:
    """The text two exact duplicates share: words only, one space apart (case, punctuation and
    spacing differences do not make two answers different)."""
    return " ".join(normalize_words(text))


def require(module: str, package: str, what: str) -> None:
    """Import ``module`` now, or fail with a ``ConfigError`` that says what to install."""
    import importlib

    from speechsift.errors import ConfigError

    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{what} needs the {package} package: pip install 'speechsift[curate]'") from None


def is_generated(example: Example) -> bool:
    """Whether the response was written by a backend (an LLM or the template) rather than taken
    from the corpus. Style checks (boilerplate, leakage, consistency, judge) apply only to these:
    a corpus transcript may well say "I'm sorry, but" or "the label"."""
    generation = example.generation
    return generation is None or generation.backend != "direct"


# --- data tables ---------------------------------------------------------------------------


def data_path(name: str) -> Path:
    """The path of a data file shipped in ``speechsift/data/curate``."""
    root = resources.files(DATA_PACKAGE[0]).joinpath(*DATA_PACKAGE[1:], name)
    return Path(str(root))


@cache
def load_yaml(name: str) -> Any:
    with data_path(name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab-separated table with a header line; ``#`` lines and blank lines are comments."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise ValueError(f"{path}:{number}: expected {len(header)} tab-separated cells, found {len(cells)}")
            rows.append(dict(zip(header, cells)))
    return rows


def read_word_list(path: Path) -> list[str]:
    """One entry per line; ``#`` starts a comment line; entries are lower-cased and stripped."""
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                entries.append(entry.lower())
    return entries


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of a pattern table: a regular expression, tried only when a needle occurs."""

    kind: str
    pattern: re.Pattern[str]
    needles: tuple[str, ...]  # lower-case substrings, one of which any match must contain; () = always try

    def applies(self, body: str) -> bool:
        """Whether one of the needles occurs in ``body`` (always, without needles)."""
        if not self.needles:
            return True
        for needle in self.needles:
            if needle in body:
                return True
        return False


def load_rules(path: Path, kinds: tuple[str, ...]) -> list[Rule]:
    """The rows of a ``kind, pattern, needles, ...`` table, in order; a bad row fails with its number."""
    rules = []
    for number, row in enumerate(read_tsv(path), 1):
        if row["kind"] not in kinds:
            raise ValueError(f"{path}: row {number}: unknown kind {row['kind']!r}; use one of {', '.join(kinds)}")
        try:
            pattern = re.compile(row["pattern"], re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{path}: row {number}: bad regular expression: {exc}") from None
        needles = tuple(n.lower() for n in row.get("needles", "").split(",") if n)
        rules.append(Rule(row["kind"], pattern, needles))
    return rules
