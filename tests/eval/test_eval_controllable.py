"""Controllable generation scored from real audio: a test speech endpoint (``/v1/audio/speech`` on
127.0.0.1) that synthesizes with espeak-ng at the instructed rate and pitch gets a high QWK; one that
ignores the instruction gets a QWK of 0. The returned audio is measured with speechsift's features
and binned with the dataset's bins (named by its run.json)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from factories import write_tone
from features.speech_fixtures import SKIP_REASON, espeak_available
from servers import ChatServer

from speechsift import audio
from speechsift.layout import OutputLayout
from speechsift.eval import run_eval
from speechsift.eval.cli_config import eval_config
from speechsift.export.audio_files import AudioPaths
from speechsift.export.parquet import AudioCells, write_parquet_part
from speechsift.features import measure
from speechsift.labels.bins import BinSet, Bins, FieldBins, save_bins
from speechsift.records import AudioRef, Clip, examples_to_arrow
from speechsift.tasks.base import TaskSettings
from speechsift.tasks.controllable import ControllableTemplate

pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

SPEEDS = {"very slowly": 80, "at a moderate speed": 170, "very fast": 370}  # instruction words -> espeak -s
PITCHES = {"very low": 5, "moderate": 50, "very high": 95}  # -> espeak -p
TEXTS = ["the little boat drifted slowly across the quiet lake at dawn",
         "my brother always forgets where he puts his keys",
         "please remember to water the plants before you leave"]


def espeak_wav(text: str, speed: int, pitch: int) -> bytes:
    return subprocess.run(["espeak-ng", "--stdout", "-v", "en-us", "-s", str(speed), "-p", str(pitch), text],
                          capture_output=True, check=True, timeout=60).stdout


def speech_endpoint(follow: bool):
    """The server's reply: espeak-ng at the instructed speed and pitch, or always the defaults."""
    def reply(body):
        assert body["response_format"] == "wav" and body["voice"] == "alloy"
        said = body.get("instructions", "").lower()
        speed = next((v for k, v in SPEEDS.items() if k in said), 170) if follow else 170
        pitch = next((v for k, v in PITCHES.items() if f"{k} pitch" in said), 50) if follow else 50
        return 200, espeak_wav(body["input"], speed, pitch)
    return reply


def calibrated_bins(tmp: Path) -> Path:
    """3-level speed and pitch bins with edges halfway between espeak's measured levels."""
    def levels(feature: str, settings: list[tuple[int, int]]) -> list[float]:
        values = []
        for speed, pitch in settings:
            wave, sr = audio.load(AudioRef(bytes=espeak_wav(TEXTS[0], speed, pitch)))
            values.append(measure(wave, sr, ("pitch", "rate"), text=TEXTS[0], language="en")[feature])
        return values

    rates = levels("speaking_rate", [(s, 50) for s in SPEEDS.values()])
    f0 = levels("f0_median_hz", [(170, p) for p in PITCHES.values()])
    assert rates == sorted(rates) and f0 == sorted(f0), (rates, f0)

    def mid(v):
        return [(v[0] + v[1]) / 2, (v[1] + v[2]) / 2]

    bins = BinSet({
        "speaking_speed": FieldBins("speaking_rate", Bins(("very slowly", "moderate speed", "very fast"), mid(rates))),
        "pitch": FieldBins("f0_median_hz", by_gender={"male": Bins(("very low", "moderate", "very high"), mid(f0))}),
    }, name="espeak calibration")
    return save_bins(bins, tmp / "bins.json")


def write_dataset(root: Path, bins_path: Path) -> Path:
    """A speechsift output with an eval split of controllable_template examples (3 speeds x 3 pitches)."""
    task = ControllableTemplate()
    settings = TaskSettings(options={"controllable_template": {"traits": 3}})
    examples = []
    for i, speed in enumerate(("very slowly", "moderate speed", "very fast")):
        for j, pitch in enumerate(("very low", "moderate", "very high")):
            path = write_tone(root / "clips" / f"c{i}{j}.wav", seconds=0.4, freq=150 + 20 * (3 * i + j))
            clip = Clip(f"demo/c{i}{j}", "demo", AudioRef(path=str(path)), language="en", speaker_id=f"s{i}{j}",
                        text=TEXTS[(i + j) % 3], meta={"gender": "male", "speaking_speed": speed, "pitch": pitch})
            example = task.build(clip, settings)
            example.split = "eval"
            examples.append(example)
    layout = OutputLayout(root)
    write_parquet_part(examples_to_arrow(examples), layout.data_part("eval", 0), AudioCells("embed", AudioPaths(layout)),
                       layout.storage)
    (root / "run.json").write_text(json.dumps({"recipe": {"labels": {"bins": str(bins_path)}}}))
    return root


def test_qwk_is_high_when_the_instruction_is_followed_and_zero_when_ignored(tmp_path):
    data = write_dataset(tmp_path / "out", calibrated_bins(tmp_path))
    results = {}
    for follow in (True, False):
        with ChatServer(speech_endpoint(follow)) as server:
            config = eval_config(data, tmp_path / f"eval-{follow}", None, {
                "model.api_base": server.url, "model.model": "tts", "bootstrap_samples": 100, "report": follow})
            results[follow] = run_eval(config, progress=False)
    followed = results[True].summary["tasks"]["controllable_template"]["metrics"]
    ignored = results[False].summary["tasks"]["controllable_template"]["metrics"]
    assert followed["qwk_speaking_speed"]["n"] == 9 and followed["qwk_pitch"]["n"] == 9
    assert followed["qwk_speaking_speed"]["value"] > 0.8 and followed["qwk_pitch"]["value"] > 0.8
    assert followed["mae_speaking_speed"]["value"] < 0.4 and followed["mae_pitch"]["value"] < 0.4
    assert abs(ignored["qwk_speaking_speed"]["value"]) < 0.2 and abs(ignored["qwk_pitch"]["value"]) < 0.2
    assert ignored["mae_speaking_speed"]["value"] > 0.5
    assert results[True].summary["controllable_levels"] == {"speaking_speed": 3, "pitch": 3}
    # the returned audio is kept for listening, and the report plays it
    predictions = tmp_path / "eval-True" / "predictions.parquet"
    import pyarrow.parquet as pq

    rows = pq.read_table(predictions).to_pylist()
    assert all((tmp_path / "eval-True" / r["output_audio"]).is_file() for r in rows)
    assert "the model&#x27;s audio" in (tmp_path / "eval-True" / "report" / "index.html").read_text()
