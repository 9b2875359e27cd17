"""Run outputs for the report tests: a real run of the template backend, and the same run as the curation
stage leaves it (a ``quality`` column, ``complete/`` holding every scored example, ``data/`` the kept ones)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from factories import make_corpus, recipe_dict, write_tone

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

SCRIPT = "<script>window.__pwned=1</script>"
BOLD = "<b>bold</b>"
# The shape of the curate stage's quality struct (speechsift.curate.quality_arrow_type): floats, booleans
# and strings; a scorer that did not run leaves its columns null, a failed one writes <scorer>_error.
QUALITY_TYPE = pa.struct(
    [
        ("length_words", pa.float64()),
        ("readability_flesch", pa.float64()),
        ("leakage_flag", pa.bool_()),
        ("length_empty", pa.bool_()),
        ("leakage_kind", pa.string()),
        ("leakage_match", pa.string()),
        ("domain_label", pa.string()),
        ("domain_similarity", pa.float64()),
        ("judge_score", pa.float64()),
        ("language_error", pa.string()),
        ("dedup_of", pa.string()),
    ]
)
DOMAINS = ("daily life", "work", "travel", "science")


def make_run(root: Path, *, n: int = 12, audio: str = "embed") -> Path:
    """A run of the template backend over ``n`` tone clips plus a WAV and an AIFF clip; two transcripts hold
    HTML, one row's audio is missing (a reject), half the rows have no answer (rejects of answer_extraction)."""
    manifest = make_corpus(root / "corpus", n=n)
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["text"] = f"Hello {SCRIPT} there & \"quoted\" 'text'."
    rows[1]["text"] = f"This is {BOLD} and <i>italic</i>."
    for i, row in enumerate(rows):
        row["answer"] = ["Paris", "eight", "blue"][i % 3] if i % 2 == 0 else ""
    rows.append({**rows[2], "id": "gone", "audio": "clips/nowhere.flac"})  # a reject: missing audio
    write_tone(root / "corpus" / "clips" / "long.wav", seconds=1.3, freq=330)
    rows.append({**rows[3], "id": "wav", "audio": "clips/long.wav", "text": "A longer wave file."})
    write_tone(root / "corpus" / "clips" / "tone.aiff", seconds=0.6, freq=440, fmt="AIFF")  # browsers cannot play AIFF
    rows.append({**rows[4], "id": "aiff", "audio": "clips/tone.aiff", "text": "An AIFF file."})
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = root / "out"
    data = recipe_dict(manifest, out, ["transcription", "sit_ssp", "answer_extraction"], output={"audio": audio})
    run_recipe(parse_recipe(data), progress=False)
    return out


def add_quality(out: Path, *, embedding_dim: int = 0) -> dict[str, int]:
    """Give every example a ``quality`` struct (and optionally an ``embedding``), move the full parts to
    ``complete/``, keep in ``data/`` the examples that pass, and record the others in rejects.jsonl.
    Returns the number of filtered-out examples per task."""
    rng = np.random.default_rng(7)
    dropped: dict[str, int] = {}
    rejects = []
    for path in sorted((out / "data").rglob("*.parquet")):
        relative = path.relative_to(out / "data")
        table = pq.read_table(path)
        n = table.num_rows
        words = pc.list_value_length(pc.utf8_split_whitespace(table.column("response").combine_chunks()))
        leaked = rng.uniform(0, 1, n) > 0.7
        leaked[0] = False  # the first example of every part is kept
        quality = pa.StructArray.from_arrays(
            [
                pc.cast(words, pa.float64()),
                pa.array(rng.normal(70, 15, n)),
                pa.array(leaked),
                pa.array(pc.equal(words, 0).to_pylist()),
                pa.array(["label_echo" if x else None for x in leaked], pa.string()),
                pa.array(["speaking quickly" if x else None for x in leaked], pa.string()),
                pa.array([DOMAINS[i % len(DOMAINS)] for i in range(n)]),
                pa.array(rng.uniform(0.2, 0.8, n)),
                pa.nulls(n, pa.float64()),  # the judge did not run
                pa.array(["LookupError: no model for xx" if i % 5 == 4 else None for i in range(n)], pa.string()),
                pa.nulls(n, pa.string()),
            ],
            fields=list(QUALITY_TYPE),
        )
        table = table.append_column("quality", quality)
        # what the release writes into complete/: reached data/, and the stage and reason of a drop
        table = table.append_column("kept", pa.array(~leaked))
        table = table.append_column("drop_stage", pa.array(["curate" if x else None for x in leaked], pa.string()))
        table = table.append_column("drop_reason", pa.array(["leakage" if x else None for x in leaked], pa.string()))
        if embedding_dim:
            vectors = rng.normal(size=(n, embedding_dim)).astype(np.float32)
            table = table.append_column("embedding", pa.array(list(vectors), pa.list_(pa.float32())))
        keep = pa.array(~leaked)
        target = out / "complete" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
        pq.write_table(table.filter(keep).drop_columns(["kept", "drop_stage", "drop_reason"]), path)
        for row in table.filter(pc.invert(keep)).select(["id", "source", "task"]).to_pylist():
            task = row["task"]
            dropped[task] = dropped.get(task, 0) + 1
            rejects.append(
                {
                    "id": row["id"],
                    "stage": "curate",
                    "reason": "leakage",
                    "message": "the response repeats the metadata",
                    "source": row["source"],
                    "task": task,
                }
            )
    with (out / "rejects.jsonl").open("a", encoding="utf-8") as handle:
        for record in rejects:
            handle.write(json.dumps(record) + "\n")
    run = json.loads((out / "run.json").read_text())
    total = sum(dropped.values())
    kept = sum(run["examples"].values()) - total
    run["counts"]["curate"] = {
        "inputs": kept + total,
        "outputs": kept,
        "rejected": total,
        "rejected_by_reason": {"leakage": total} if total else {},
    }
    run["rejects"] = run.get("rejects", 0) + total
    (out / "run.json").write_text(json.dumps(run, indent=2))
    return dropped
