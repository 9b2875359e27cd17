"""HeySQuAD: spoken questions for SQuAD 2.0 (Wu et al., Fidelity Investments, LREC-COLING 2024).

Source: the Hugging Face repositories ``yijingwu/HeySQuAD_human`` (76k questions read by people)
and ``yijingwu/HeySQuAD_machine`` (97k questions by TTS); a local download (``huggingface-cli
download --repo-type dataset yijingwu/HeySQuAD_human --local-dir ...``) is read here without
the ``datasets`` package.
Licence: CC BY 4.0 (the SQuAD 2.0 text it carries is CC BY-SA 4.0).
Speech: English questions, one clip each.
Labels: none about the voice; ``text`` is the question's transcription (the words as spoken, which
may differ from the SQuAD question), ``extra["answers"]`` the SQuAD answer texts (empty for an
unanswerable question, with ``extra["is_impossible"]``), ``extra["question"]`` the original question,
``extra["squad_id"]``, and the paragraph in ``extra["context"]`` when ``context=True``.

Layouts::

    HeySQuAD_human/data/train-00000-of-00031.parquet  validation-00000-of-00002.parquet   # the hub repository:
        columns audio {bytes, path}, transcription, question, context, answers [{answer_start, text}],
        is_impossible, id, plausible_answers
    <root>/train-v2.0.json (SQuAD format) + audio named by question id (<id>.wav|flac|mp3) anywhere below

The second is the SQuAD-JSON-plus-audio form the corpus is described in; its file naming
(question id as the file name) is assumed, not taken from a published archive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import check_root, make_clip, reject, require_some, walk_files, wrong_root

NAME = "heysquad"
TITLE = "HeySQuAD"

PARQUET_COLUMNS = ("audio", "id", "question", "transcription", "answers", "is_impossible", "context")
_PARQUET = re.compile(r"^(train|validation|test)-\d+-of-\d+\.parquet$")
_AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


def _parquet_files(folder: Path) -> list[Path]:
    base = folder / "data" if (folder / "data").is_dir() else folder
    try:
        return sorted(p for p in base.iterdir() if _PARQUET.match(p.name))
    except OSError:
        return []


def _squad_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.glob("*.json") if _is_squad_json(p))
    except OSError:
        return []


def _is_squad_json(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    return b'"data"' in head and (b'"version"' in head or b'"paragraphs"' in head or b'"title"' in head)


def _split_of(name: str) -> str:
    lowered = name.lower()
    for split, marks in (("train", ("train",)), ("validation", ("validation", "dev", "val"))):
        if any(m in lowered for m in marks):
            return split
    return "test" if "test" in lowered else lowered.split(".")[0]


def _answer_texts(value: Any) -> list[str]:
    """SQuAD answers as their texts: [{text, answer_start}], {text: [...]}, or a JSON string of either."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value] if value.strip() else []
    if isinstance(value, dict):
        value = value.get("text", [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return [str(a["text"]) if isinstance(a, dict) else str(a) for a in value if a is not None]


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="CC BY 4.0 (SQuAD 2.0 text: CC BY-SA 4.0)",
    layout="data/{train,validation}-*.parquet (hub repository) or a SQuAD JSON + <question id>.wav audio",
    labels={"answers (extra)": ("SQuAD 2.0 answer texts",)},
    homepage="https://huggingface.co/datasets/yijingwu/HeySQuAD_human",
    aliases=("hey squad", "heysquad_human", "heysquad_machine"),
)
def read_heysquad(
    root: Path, *, source: str = NAME, splits: Sequence[str] | str | None = None, context: bool = False
) -> Iterator[Clip | RejectedRow]:
    """Clips (spoken questions) of HeySQuAD at ``root``.

    Args:
        root: a download of the hub repository (holding ``data/*.parquet``), or a folder with a
            SQuAD-format JSON and the question audio.
        source: the clips' source name and id prefix.
        splits: which splits to read (train, validation; default all present).
        context: keep each question's paragraph in ``extra["context"]`` (long; off by default).
    """
    root = check_root(root, TITLE)
    wanted = None if splits is None else {splits} if isinstance(splits, str) else set(splits)
    parquet = _parquet_files(root)
    if parquet:
        files = [p for p in parquet if wanted is None or _split_of(p.name) in wanted]
        if not files:
            raise CorpusError(f"{TITLE}: no Parquet files for split(s) {', '.join(sorted(wanted or ()))} in {root}; "
                              f"found {', '.join(sorted({_split_of(p.name) for p in parquet}))}.")
        return require_some(_parquet_clips(files, context, source), f"{TITLE}: the Parquet files in {root} hold no rows.")
    squad = _squad_files(root)
    if squad:
        files = [p for p in squad if wanted is None or _split_of(p.name) in wanted]
        if not files:
            raise CorpusError(f"{TITLE}: no SQuAD JSON for split(s) {', '.join(sorted(wanted or ()))} in {root}.")
        return require_some(_json_clips(root, files, context, source, leftovers=len(files) == len(squad)),
                            f"{TITLE}: the JSON files in {root} hold no questions.")
    raise wrong_root(TITLE, root, "data/train-*.parquet (the hub download) or a SQuAD-format JSON with question audio",
                     lambda p: bool(_parquet_files(p) or _squad_files(p)))


def _parquet_clips(files: list[Path], context: bool, source: str) -> Iterator[Clip | RejectedRow]:
    import pyarrow.parquet as pq

    seen: dict[str, int] = {}
    for path in files:
        split = _split_of(path.name)
        table = pq.ParquetFile(path)
        names = set(table.schema_arrow.names)
        missing = {"audio", "id", "answers"} - names
        if missing:
            raise CorpusError(f"{path}: no column(s) {', '.join(sorted(missing))}; the columns are {', '.join(sorted(names))}.")
        columns = [c for c in PARQUET_COLUMNS if c in names and (context or c != "context")]
        row_number = 0
        for batch in table.iter_batches(columns=columns, batch_size=256):
            for row in batch.to_pylist():
                row_number += 1
                qid = str(row.get("id") or f"{split}_row{row_number}")
                seen[qid] = seen.get(qid, 0) + 1
                native_id = qid if seen[qid] == 1 else f"{qid}_{seen[qid]}"
                audio = row.get("audio") or {}
                if not audio.get("bytes") and not audio.get("path"):
                    yield reject(source, native_id, "missing_audio", f"{path} row {row_number}: the audio cell is empty")
                    continue
                ref = AudioRef(path=audio.get("path"), bytes=audio.get("bytes")) if audio.get("bytes") else \
                    AudioRef(str(path.parent / audio["path"]))
                yield _clip(source, native_id, ref, row, split, context)


def _clip(source: str, native_id: str, audio: AudioRef, row: dict[str, Any], split: str, context: bool) -> Clip:
    question = (row.get("question") or "").strip()
    extra: dict[str, Any] = {
        "answers": _answer_texts(row.get("answers")),
        "question": question,
        "squad_id": row.get("id"),
        "split": split,
    }
    if row.get("is_impossible") is not None:
        extra["is_impossible"] = bool(row["is_impossible"])
    if context and row.get("context"):
        extra["context"] = row["context"]
    text = (row.get("transcription") or "").strip() or question or None
    return make_clip(source, native_id, audio.path or "", language="en", text=text, extra=extra, audio=audio)


def _json_clips(root: Path, files: list[Path], context: bool, source: str, *, leftovers: bool) -> Iterator[Clip | RejectedRow]:
    audio = {}
    for path in walk_files(root, _AUDIO_SUFFIXES):
        audio.setdefault(path.stem, path)
    for path in files:
        split = _split_of(path.name)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{path}: not a readable SQuAD JSON ({exc}).") from None
        questions = 0
        for article in document.get("data", []):
            for paragraph in article.get("paragraphs", []):
                for qa in paragraph.get("qas", []):
                    qid = str(qa.get("id", ""))
                    if not qid:
                        continue
                    questions += 1
                    found = audio.pop(qid, None)
                    if found is None:
                        yield reject(source, qid, "missing_audio", f"{path}: question {qid} has no audio file {qid}.wav|flac|mp3 under {root}")
                        continue
                    row = {**qa, "context": paragraph.get("context")}
                    yield _clip(source, qid, AudioRef(str(found)), row, split, context)
    for stem in sorted(audio) if leftovers else ():
        yield reject(source, stem, "unexplained_file", f"{audio[stem]}: no question with id {stem} in {', '.join(p.name for p in files)}")

