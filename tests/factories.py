"""Small synthetic inputs shared by the tests: real audio files and manifests made on the spot."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from speechsift.records import AudioRef, Clip


def write_tone(path: Path, seconds: float = 0.5, sr: int = 16_000, freq: float = 220.0, amplitude: float = 0.3,
               fmt: str | None = None) -> Path:
    """A real audio file holding a sine tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, format=fmt)
    return path


def write_manifest(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """A CSV manifest with the given rows (columns: the union of the rows' keys, in order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if columns is None:
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def make_corpus(root: Path, n: int = 6, *, seconds: float = 0.4) -> Path:
    """``n`` tone clips and a manifest with varied labels; returns the manifest path."""
    genders = ["male", "F", "female_feminine", "m"]
    emotions = ["happy", "ANG", "sadness", "neutral", "ps", "fearful"]
    rows = []
    for i in range(n):
        write_tone(root / "clips" / f"c{i:03d}.flac", seconds=seconds, freq=150 + 10 * i)
        rows.append(
            {
                "id": f"c{i:03d}",
                "audio": f"clips/c{i:03d}.flac",
                "text": f"Sentence number {i}.",
                "speaker": f"spk{i % 3}",
                "gender": genders[i % len(genders)],
                "age": ["twenties", "45", "sixties", ""][i % 4],
                "emotion": emotions[i % len(emotions)],
                "speaking_rate": f"{4 + i * 1.5:.2f}",
                "relative_db": f"{-20 + i * 3:.2f}",
            }
        )
    return write_manifest(root / "manifest.csv", rows)


def make_clip(clip_id: str = "src/c1", *, text: str | None = "Hello there", meta: dict[str, str] | None = None,
              path: str = "/nonexistent.flac", **extra: Any) -> Clip:
    """A Clip record (no audio file behind it unless ``path`` names one)."""
    return Clip(
        clip_id=clip_id,
        source=clip_id.split("/")[0],
        audio=AudioRef(path=path),
        language="en",
        speaker_id="spk1",
        text=text,
        meta=dict(meta or {}),
        extra=dict(extra),
    )


# The test corpora hold tones of 0.05-0.4 s, quick to write and read; the recipes over them admit
# such clips. The default engine.min_duration_s (0.3 s) is tested on its own.
TEST_ENGINE = {"min_duration_s": 0.01}


def recipe_dict(manifest: Path, out: Path, tasks: list[Any] | None = None, **sections: Any) -> dict[str, Any]:
    """A recipe mapping over one manifest source."""
    data: dict[str, Any] = {
        "name": "test",
        "sources": [{"name": "src", "kind": "manifest", "path": str(manifest), "language": "en"}],
        "tasks": tasks or ["transcription", "sit_ssp"],
        "llm": {"backend": "template"},
        "output": {"dir": str(out)},
        "engine": dict(TEST_ENGINE),
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return data


def release_rows(out: Path, task: str | None = None, split: str = "*", folder: str = "data") -> list[dict[str, Any]]:
    """The rows of a release's Parquet files (``data/<split>-part-*.parquet``, or ``complete/``),
    in part order, of one task or all."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pattern = f"{split}-part-*.parquet" if folder == "data" else "part-*.parquet"
    rows = []
    for path in sorted((out / folder).glob(pattern)):
        table = pq.read_table(path)
        if task is not None:
            table = table.filter(pc.equal(table.column("task"), task))
        rows += table.to_pylist()
    return rows
