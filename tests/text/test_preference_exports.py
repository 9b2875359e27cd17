"""Preference pairs end to end: balanced sampling, the instruction-disjoint split, both DPO exports
loaded back with `datasets`, and the listening-annotation page clicked through in a real headless
Chromium (Debian's chromium over the DevTools protocol), its saved file imported by the CLI."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from datasets import load_dataset
from report.cdp import Browser, find_chromium
from servers import ChatServer
from text_server import text_reply
from typer.testing import CliRunner

from speechsift.cli import app
from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe
from speechsift.tasks.speechworthy import REFERENCE_CONFIG, Config, assign_pairs

QUESTIONS = ["How do tides work?", "Why is the sky blue?", "How can I sleep better?", "What is a black hole?",
             "How do bees make honey?", "Why do cats purr?", "How does a rainbow form?", "What causes thunder?"]


def test_pair_assignment_is_balanced_and_capped():
    configs = [Config(m, s, t) for m in ("a", "b") for s in ("simple", "icl") for t in (0.3, 1.0)]  # 8 configs
    items = [(f"i{n}", n % 2 == 0) for n in range(200)]
    assigned, usage = assign_pairs(items, configs, per_item=2, cap=None, seed=1)
    counts = Counter(pair for pairs in assigned.values() for pair in pairs)
    without_reference = [n for pair, n in counts.items() if REFERENCE_CONFIG not in pair]
    assert max(without_reference) - min(without_reference) <= 1  # balanced over configuration pairs
    assert all(len(pairs) == 2 and pairs[0] != pairs[1] for pairs in assigned.values())
    assert all(REFERENCE_CONFIG not in pair for item, has_ref in items if not has_ref for pair in assigned[item])
    capped, usage = assign_pairs(items, configs, per_item=2, cap=3, seed=1)
    assert max(usage.values()) == 3 and sum(usage.values()) == 3 * len(usage)  # every pair reaches the cap, none passes it
    assert sum(1 for pairs in capped.values() if not pairs) > 0  # the rest have nothing left to compare
    assert assign_pairs(items, configs, 2, 3, seed=1) == (capped, usage)  # deterministic


def preference_recipe(tmp_path: Path, url: str) -> dict:
    return {
        "name": "prefs",
        "llm": {"backend": "openai", "model": "qwen2.5-7b-instruct", "api_base": url, "concurrency": 8},
        "tasks": [{"name": "preference_pairs", "options": {
            "instructions": QUESTIONS, "strategies": ["simple", "detailed"], "temperatures": [0.2, 0.9],
            "pairs_per_instruction": 2, "include_reference": False}}],
        "splits": {"dev": {"fraction": 0.25}},
        "output": {"dir": str(tmp_path / "out"), "formats": ["parquet", "dpo_llamafactory", "dpo_trl", "annotation"],
                   "report": False},
    }


CHROMIUM = find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_preference_exports_split_and_annotation_round_trip(tmp_path):
    with ChatServer(text_reply) as server:
        result = run_recipe(parse_recipe(preference_recipe(tmp_path, server.url)), progress=False)
    out = result.out_dir
    # the split keeps each instruction's pairs together
    exports = out / "exports"
    splits: dict[str, set[str]] = {}
    for path in sorted((exports / "dpo_trl").glob("*/*.jsonl")):
        for row in map(json.loads, path.read_text().splitlines()):
            splits.setdefault(path.parent.name, set()).add(row["prompt"][0]["content"])
    assert set(splits) == {"train", "dev"} and not splits["train"] & splits["dev"]

    trl = load_dataset("json", data_files=str(exports / "dpo_trl" / "train" / "*.jsonl"), split="train")
    assert {"prompt", "chosen", "rejected", "margin", "chosen_config", "rejected_config"} <= set(trl.column_names)
    assert trl[0]["prompt"][0]["role"] == "user" and trl[0]["chosen"][0]["role"] == "assistant"
    info = json.loads((exports / "dpo_llamafactory" / "dataset_info.json").read_text())
    entry = info["prefs_dpo"]
    assert entry["ranking"] is True and entry["formatting"] == "sharegpt"
    lf = load_dataset("json", data_files=str(exports / "dpo_llamafactory" / entry["file_name"] / "*.jsonl"), split="train")
    assert set(entry["columns"].values()) <= set(lf.column_names)
    assert all(row["chosen"]["content"] != row["rejected"]["content"] for row in lf)

    pages = sorted((exports / "annotation").glob("*/batch-*.html"))
    assert pages
    page = next(p for p in pages if p.parent.name == "train")
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    async def annotate() -> dict:
        async with Browser(CHROMIUM, tmp_path / "profile") as browser:
            await browser.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
            tab = await browser.new_page()
            await tab.goto(page.as_uri())
            before = await tab.evaluate("document.getElementById('status').textContent")
            # saving before every pair is answered is refused
            await tab.evaluate("document.getElementById('annotator').value = 'ann1';"
                               "document.getElementById('save').click()", user_gesture=True)
            refused = await tab.evaluate("document.getElementById('status').textContent")
            pairs = await tab.evaluate("DATA.pairs.map(p => p.pair_id)")
            for n, pair_id in enumerate(pairs):
                await tab.evaluate(f"document.getElementById('choice-{pair_id}-{n % 2}').click();"
                                   f"document.getElementById('margin-{pair_id}-{1 + n % 3}').click();"
                                   f"(t => {{ t.value = 'clearer by ear {n}'; t.dispatchEvent(new Event('input')); }})"
                                   f"(document.getElementById('why-{pair_id}'))", user_gesture=True)
            await tab.evaluate("document.getElementById('save').click()", user_gesture=True)
            deadline = time.monotonic() + 20
            while not list(downloads.glob("*.json")) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return {"before": before, "refused": refused, "pairs": pairs, "errors": tab.console_errors(),
                    "after": await tab.evaluate("document.getElementById('status').textContent")}

    state = asyncio.run(annotate())
    assert state["errors"] == []
    assert state["before"] == f"0 of {len(state['pairs'])} answered" and "still need" in state["refused"]
    [saved] = list(downloads.glob("*.json"))
    assert saved.name == "annotations-train-00000.json" and state["after"].startswith("Saved")

    cli = CliRunner().invoke(app, ["annotations", "import", str(out), str(saved)])
    assert cli.exit_code == 0, cli.output
    records = [json.loads(line) for line in (out / "annotations" / "preferences.jsonl").read_text().splitlines()]
    assert len(records) == len(state["pairs"])
    assert {r["judge"] for r in records} == {"human:ann1"} and {r["margin"] for r in records} <= {1, 2, 3}
    assert all(r["chosen"] != r["rejected"] and r["explanation"].startswith("clearer by ear") for r in records)
    trl = load_dataset("json", data_files=str(out / "annotations" / "exports" / "dpo_trl" / "*" / "*.jsonl"), split="train")
    assert len(trl) == len(records)
    # an edited or foreign file is refused with one paragraph naming it
    bad = tmp_path / "bad.json"
    bad.write_text(saved.read_text().replace(records[0]["pair_id"], "no-such-pair"))
    cli = CliRunner().invoke(app, ["annotations", "import", str(out), str(bad)])
    assert cli.exit_code == 2 and "not on this output's annotation pages" in cli.output


def test_spoken_prompts_and_responses_reach_the_exports_and_the_page(tmp_path):
    """Where speech synthesis voiced the instruction and the responses, the DPO exports carry their
    paths and the annotation page plays them (relative to the page, so it opens from disk)."""
    import numpy as np
    import soundfile as sf

    from speechsift.engine.layout import OutputLayout
    from speechsift.export.annotation import absolute_paths, write_annotation_pages
    from speechsift.export.dpo import llamafactory_record, trl_record
    from speechsift.records import AudioRef, Example, Message, Part

    files = {}
    for name in ("prompt", "chosen", "rejected"):
        files[name] = tmp_path / "tts" / f"{name}.wav"
        files[name].parent.mkdir(exist_ok=True)
        sf.write(files[name], np.zeros(1600, dtype=np.float32), 16000)
    example = Example(
        id="p1", task="preference_pairs", clip_ids=["i1"], audios=[AudioRef(path=str(files["prompt"]))],
        instruction="How do tides work?", response="The moon pulls the sea.",
        messages=[Message("user", [Part.of_audio(0)]), Message("assistant", [Part.of_text("The moon pulls the sea.")])],
        source="s", language="en",
        extra={"rejected": "Tides: 1. moon 2. sun", "chosen_config": "a", "rejected_config": "b", "margin": 2,
               "chosen_audio": str(files["chosen"]), "rejected_audio": {"path": str(files["rejected"])}})
    layout = OutputLayout(tmp_path / "out")
    lf = llamafactory_record(example, absolute_paths(layout))  # files outside OUT: absolute either way
    assert lf["messages"] == [{"role": "user", "content": "<audio>"}] and lf["audios"] == [str(files["prompt"])]
    assert lf["chosen_audio"] == str(files["chosen"]) and lf["rejected_audio"] == str(files["rejected"])
    assert trl_record(example, absolute_paths(layout))["prompt_audio"] == [str(files["prompt"])]
    [page, _pairs] = write_annotation_pages(layout, "t", [example])
    html = page.read_text()
    assert html.count("../../../../tts/") == 3  # out/exports/annotation/train/ -> tts/


def test_spoken_responses_of_text_tasks_reach_the_preference_exports(tmp_path):
    """speak_response on text tasks (speech synthesis from the TTS layer, espeak-ng): the chosen
    response's audio is in the DPO records and on the annotation page; a text prompt adds no
    <audio> and no audio path (LLaMA-Factory counts one per placeholder)."""
    from features.speech_fixtures import SKIP_REASON, espeak_available

    if not espeak_available():
        pytest.skip(SKIP_REASON)
    with ChatServer(text_reply) as server:
        data = preference_recipe(tmp_path, server.url)
        data["tasks"][0]["speak_response"] = True
        data["tasks"][0]["options"].update(instructions=QUESTIONS[:2], strategies=["simple", "detailed"],
                                           temperatures=[0.7], pairs_per_instruction=1)
        data["splits"] = {}
        result = run_recipe(parse_recipe(data), progress=False)
    exports = result.out_dir / "exports"
    rows = [json.loads(line) for path in sorted((exports / "dpo_llamafactory").glob("*/*.jsonl"))
            for line in path.read_text().splitlines()]
    assert rows and all(row["audios"] == [] and "<audio>" not in row["messages"][0]["content"] for row in rows)
    # synthesized speech lies inside OUT (.work/tts): relative to the export's folder (LLaMA-Factory's media_dir)
    assert all((exports / "dpo_llamafactory" / row["chosen_audio"]).is_file() for row in rows)
    page = next((exports / "annotation").glob("*/batch-*.html")).read_text()
    assert page.count(".flac") + page.count(".wav") >= len(rows)  # the chosen responses play on the page
