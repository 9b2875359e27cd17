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


async def annotation_tab(browser: Browser, page: Path, downloads: Path):
    """A tab on an annotation page whose downloads (the saved results) land in ``downloads``."""
    downloads.mkdir(exist_ok=True)
    await browser.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    tab = await browser.new_page()
    await tab.goto(page.as_uri())
    return tab


async def saved_results(downloads: Path) -> None:
    """Waits (up to 20 s) for the page's download of its results."""
    deadline = time.monotonic() + 20
    while not list(downloads.glob("*.json")) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


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

    async def annotate() -> dict:
        async with Browser(CHROMIUM, tmp_path / "profile") as browser:
            tab = await annotation_tab(browser, page, downloads)
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
            await saved_results(downloads)
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


SPOKEN_ROWS = [
    {"instruction": "How do tides work?", "response": "The moon pulls the oceans.", "category": "open_qa"},
    {"instruction": "Why is the sky blue?", "response": "Sunlight scatters off the air.", "category": "open_qa"},
    {"instruction": "日本の首都はどこですか", "response": "Tokyo.", "category": "open_qa"},  # no English voice reads it
]

# Plays every player of the page (muted, fast, one after the other) to its end: the whole file
# decoded, not only its header (the players load nothing before they are played: preload="none").
PLAY_ALL = """
(async () => {
  const results = [];
  for (const a of document.querySelectorAll('audio')) {
    a.muted = true; a.playbackRate = 16;
    try { await a.play(); } catch (e) { results.push({error: 'play failed: ' + e}); continue; }
    if (!a.ended) await new Promise(done => { a.addEventListener('ended', done, {once: true}); setTimeout(done, 30000); });
    results.push({src: a.getAttribute('src'), ended: a.ended, error: a.error ? a.error.code : null,
                  played: a.played.length ? a.played.end(0) : 0, duration: a.duration});
  }
  return results;
})()
"""


def spoken_recipe(tmp_path: Path, url: str, formats: list[str]) -> dict:
    path = tmp_path / "instructions.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in SPOKEN_ROWS), encoding="utf-8")
    return {
        "name": "spoken",
        "llm": {"backend": "openai", "model": "qwen2.5-7b-instruct", "api_base": url, "concurrency": 8},
        "sources": [{"kind": "text", "name": "instr", "path": str(path), "language": "en"}],
        "tasks": [
            {"name": "preference_pairs", "speak_instruction": True, "speak_response": True,
             "options": {"strategies": ["simple", "detailed"], "temperatures": [0.7], "pairs_per_instruction": 2}},
            {"name": "speech_response", "speak_instruction": True, "options": {"strategy": "detailed"}},
            {"name": "self_instruct", "speak_instruction": True,
             "options": {"instructions": ["How do volcanoes erupt?"], "per_round": 2}},
        ],
        "tts": {"seed": 1},
        "output": {"dir": str(tmp_path / "out"), "formats": formats, "report": False},
    }


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_spoken_preference_pairs_from_text_data_end_to_end(tmp_path):
    """Speechworthy's listening setup from a `kind: text` source, voiced by espeak-ng: every prompt
    and both responses of each pair spoken; the DPO exports (read back with `datasets`), Parquet and
    the annotation page carry them; the page's three players per pair play in headless Chromium,
    its saved choices import with their audio; a rerun synthesizes nothing."""
    from features.speech_fixtures import SKIP_REASON, espeak_available

    if not espeak_available():
        pytest.skip(SKIP_REASON)
    import soundfile as sf
    from datasets import Audio

    formats = ["parquet", "messages", "dpo_llamafactory", "dpo_trl", "annotation"]
    with ChatServer(text_reply) as server:
        result = run_recipe(parse_recipe(spoken_recipe(tmp_path, server.url, formats)), progress=False)
        asked = len(server.requests)
        # another export is a change of the release only: every shard is reused
        again = run_recipe(parse_recipe(spoken_recipe(tmp_path, server.url, [*formats, "sift_jsonl"])), progress=False)
        assert len(server.requests) == asked and again.shards_skipped == again.shards
        # a change the shard stages use rebuilds every shard: answers from the ledger, speech from the cache
        checked = {**spoken_recipe(tmp_path, server.url, [*formats, "sift_jsonl"]), "engine": {"verify_audio": "decode"}}
        again = run_recipe(parse_recipe(checked), progress=False)
        assert len(server.requests) == asked and again.shards_skipped == 0
    assert again.tts_this_run.get("synthesized", 0) == 0 and again.tts_this_run["cache_hits"] > 0
    out = result.out_dir
    assert result.examples["preference_pairs"] == 4 and result.examples["speech_response"] == 2
    run = json.loads((out / "run.json").read_text())
    counts = run["counts"]
    # the Japanese request: its two pairs and its speech response, refused before any response is voiced
    assert counts["tts_instruction"]["rejected_by_reason"] == {"unsupported_script": 3}
    for stage in ("tts_instruction", "tts_response"):
        assert counts[stage]["inputs"] == counts[stage]["outputs"] + counts[stage]["rejected"], stage
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {(r["stage"], r["task"]) for r in rejects if r["reason"] == "unsupported_script"} == {
        ("tts_instruction", "preference_pairs"), ("tts_instruction", "speech_response")}
    # each distinct text is spoken once: the two pairs of a request and its speech response share its audio
    tts = result.tts_this_run
    assert tts["deduplicated"] > 0
    assert tts["requests"] == tts["synthesized"] + tts["deduplicated"] + tts.get("cache_hits", 0) + 3

    exports = out / "exports"
    lf = load_dataset("json", data_files=str(exports / "dpo_llamafactory" / "train" / "*.jsonl"), split="train")
    trl = {row["id"]: row for row in
           load_dataset("json", data_files=str(exports / "dpo_trl" / "train" / "*.jsonl"), split="train")}
    assert len(lf) == 4

    def file(path: str, export: str) -> Path:  # paths inside OUT are relative to the export's folder
        return (exports / export / path).resolve()

    for row in lf:
        assert row["messages"] == [{"role": "user", "content": "<audio>"}] and len(row["audios"]) == 1
        paths = [row["audios"][0], row["chosen_audio"], row["rejected_audio"]]
        assert len(set(paths)) == 3 and trl[row["id"]]["prompt_audio"] == row["audios"]  # same depth: same paths
        assert (trl[row["id"]]["chosen_audio"], trl[row["id"]]["rejected_audio"]) == tuple(paths[1:])
        for path, text in zip(paths[1:], (row["chosen"]["content"], row["rejected"]["content"])):
            info = sf.info(file(path, "dpo_llamafactory"))  # real speech, about as long as its text takes to say
            assert 0.03 < info.duration / len(text.split()) < 1.5, (path, text)
    pairs = [json.loads(line) for line in (exports / "annotation" / "pairs.jsonl").read_text().splitlines()]
    prompt_of = {}
    for pair in pairs:
        assert prompt_of.setdefault(pair["instruction"], pair["instruction_audio"]) == pair["instruction_audio"]
    assert set(prompt_of) == {"How do tides work?", "Why is the sky blue?"}
    answered = [json.loads(line) for path in (exports / "messages" / "train" / "speech_response").glob("*.jsonl")
                for line in path.read_text().splitlines()]
    assert {str(file(a["audios"][0], "messages")) for a in answered} == set(prompt_of.values())
    assert all(a["messages"][0]["content"] == "<audio>" for a in answered)
    written = [json.loads(line) for path in (exports / "messages" / "train" / "self_instruct").glob("*.jsonl")
               for line in path.read_text().splitlines()]
    assert written and all(w["messages"][0]["content"] == "<audio>" and len(w["audios"]) == 1 for w in written)

    ds = load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train",
                      filters=[("task", "==", "preference_pairs")])
    ds = ds.cast_column("audios", [Audio(decode=False)])
    for row in ds:
        extra = json.loads(row["extra"])
        assert extra["rejected_audio"] == 2 and len(row["audios"]) == 3
        assert all(a["bytes"][:4] == b"fLaC" for a in row["audios"]), "the audio is embedded"
        assert [[p["type"] for p in m["content"]] for m in row["messages"]] == [["audio"], ["text", "audio"]]
        assert row["speaker_id"].startswith("tts/espeak-en") and row["meta"]["gender"] in ("male", "female")
        assert row["transcript"] == row["instruction"] in prompt_of

    page = exports / "annotation" / "train" / "batch-00000.html"
    downloads = tmp_path / "downloads"

    async def listen_and_annotate() -> dict:
        async with Browser(CHROMIUM, tmp_path / "profile") as browser:
            tab = await annotation_tab(browser, page, downloads)
            per_pair = await tab.evaluate("[...document.querySelectorAll('section.pair')]"
                                          ".map(s => s.querySelectorAll('audio').length)")
            played = await tab.evaluate(PLAY_ALL, timeout=300, user_gesture=True)
            pair_ids = await tab.evaluate("DATA.pairs.map(p => p.pair_id)")
            script = "document.getElementById('annotator').value = 'listener';"
            for n, pair_id in enumerate(pair_ids):
                script += (f"document.getElementById('choice-{pair_id}-{n % 2}').click();"
                           f"document.getElementById('margin-{pair_id}-2').click();")
            await tab.evaluate(script + "document.getElementById('save').click()", user_gesture=True)
            await saved_results(downloads)
            return {"per_pair": per_pair, "played": played, "errors": tab.console_errors(),
                    "failed": tab.failed_requests()}

    state = asyncio.run(listen_and_annotate())
    assert state["errors"] == [] and state["failed"] == []
    assert state["per_pair"] == [3, 3, 3, 3], "a player for the request and for each response"
    assert len(state["played"]) == 12
    for player in state["played"]:
        assert player.get("ended") and player["error"] is None and player["played"] > 0.5, player
        assert abs(player["played"] - sf.info(page.parent / player["src"]).duration) < 0.1, player

    [saved] = list(downloads.glob("*.json"))
    cli = CliRunner().invoke(app, ["annotations", "import", str(out), str(saved)])
    assert cli.exit_code == 0, cli.output
    imported = load_dataset("json", data_files=str(out / "annotations" / "exports" / "dpo_llamafactory" / "*" / "*.jsonl"),
                            split="train")
    assert len(imported) == 4
    by_text = {(r["chosen"]["content"], r["rejected"]["content"]): r for r in lf}
    for row in imported:  # the human's choice, with the same audio as the pair it was made on
        run_row = by_text.get((row["chosen"]["content"], row["rejected"]["content"])) or \
            by_text[(row["rejected"]["content"], row["chosen"]["content"])]
        # (.work/ lies outside OUT/annotations/: absolute paths there)
        assert row["messages"] == [{"role": "user", "content": "<audio>"}]
        assert row["audios"] == [str(file(run_row["audios"][0], "dpo_llamafactory"))]
        assert {row["chosen_audio"], row["rejected_audio"]} == {
            str(file(run_row[key], "dpo_llamafactory")) for key in ("chosen_audio", "rejected_audio")}


def test_spoken_responses_of_text_tasks_reach_the_preference_exports(tmp_path):
    """speak_response on text tasks (speech synthesis from the TTS layer, espeak-ng): both
    responses' audio is in the DPO records and on the annotation page; a text prompt adds no
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
    root = exports / "dpo_llamafactory"
    assert all((root / row["chosen_audio"]).is_file() and (root / row["rejected_audio"]).is_file() for row in rows)
    assert all(row["chosen_audio"] != row["rejected_audio"] for row in rows)
    page = next((exports / "annotation").glob("*/batch-*.html")).read_text()
    assert page.count(".flac") == 2 * len(rows)  # both responses of each pair play on the page
