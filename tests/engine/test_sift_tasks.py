"""The SIFT-50M and DeSTA task families through whole runs: pairs formed over the corpus, options,
the SIFT directory layout and the DeSTA export."""

from __future__ import annotations

import json

import pytest
from factories import make_corpus, recipe_dict, release_rows
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.recipe import parse_recipe


def _rows(out, task):
    return release_rows(out, task)


def _qa_reply(body):
    prompt = body["messages"][-1]["content"]
    if "acoustic_level" in prompt or "Audio 1" in prompt or "audio 1" in prompt.lower():
        pairs = [{"q": "Which clip sounds faster?", "a": "The first one is quicker."},
                 {"q": "Is the second speaker calm?", "a": "Yes, fairly calm."}]
    else:
        pairs = [{"q": "What is said?", "a": "A short sentence."}]
    return "\n".join(json.dumps(p) for p in pairs)


def test_template_families_and_pairs_in_one_run(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=8, seconds=0.2)
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, [
        {"name": "closed_ended_template", "options": {"questions_per_clip": 2}},
        {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus", "seed": 3}},
        "controllable_template",
    ])
    result = run_recipe(parse_recipe(data), progress=False)
    assert result.examples["closed_ended_template"] == 16
    pairs = _rows(out, "comparison_template")
    assert pairs and all(len(r["clip_ids"]) == 2 for r in pairs)
    assert all(len(r["audios"]) == 2 for r in pairs), "two-audio examples use the audios column"
    controllable = _rows(out, "controllable_template")
    assert controllable and all(r["messages"][-1]["content"][0]["type"] == "audio" for r in controllable)
    run = json.loads((out / "run.json").read_text())
    assert run["pairing"]["comparison_template"]["strategy"] == "random_within_corpus"
    folders = {p.parent.relative_to(out / "exports" / "sift_jsonl").as_posix()
               for p in (out / "exports" / "sift_jsonl").rglob("*.jsonl")}
    assert {"train/closed_ended/acoustic_level/en", "train/closed_ended/comparison/en",
            "train/controllable_generation/en"} <= folders
    sift = [json.loads(line) for p in (out / "exports" / "sift_jsonl" / "train" / "closed_ended" / "comparison").rglob("*.jsonl")
            for line in p.read_text().splitlines()]
    assert all(sum(part["audio_path"] is not None for part in r["messages"][0]["content"]) == 2 for r in sift)


def test_single_speaker_corpus_reports_pairs_it_cannot_form(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.1)
    rows = manifest.read_text().splitlines()
    manifest.write_text("\n".join([rows[0]] + [r.replace(",spk1,", ",spk0,").replace(",spk2,", ",spk0,") for r in rows[1:]]) + "\n")
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, [{"name": "comparison_template", "pairing": {"strategy": "same_text_different_speakers"}},
                                       "transcription"])
    result = run_recipe(parse_recipe(data), progress=False)
    report = json.loads((out / "run.json").read_text())["pairing"]["comparison_template"]
    assert report["pairs"] == 0 and report["sources"]["src"]["reason"] == "single_speaker"
    assert result.examples["transcription"] == 4 and "comparison_template" not in result.examples


def test_llm_families_against_a_scripted_server_and_the_desta_export(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.1)
    out = tmp_path / "out"
    with ChatServer(reply=lambda body: _qa_reply(body) if "JSON" in body["messages"][0]["content"] or "json" in body["messages"][0]["content"] else "I hear a calm voice saying a sentence.") as server:
        data = recipe_dict(manifest, out, ["closed_ended_acoustic", "desta", {"name": "comparison", "pairing": {"seed": 1}}],
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url},
                           output={"formats": ["parquet", "sift_jsonl", "desta_jsonl"]})
        result = run_recipe(parse_recipe(data), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert result.examples.get("closed_ended_acoustic", 0) + run["counts"]["generate"]["rejected"] > 0
    desta = [json.loads(line) for p in (out / "exports" / "desta_jsonl").rglob("*.jsonl") for line in p.read_text().splitlines()]
    assert desta and all({"id", "dataset", "seed_description", "prompt", "response", "messages", "audios"} <= set(d) for d in desta)
    assert all(d["messages"][0]["role"] == "system" and "<|AUDIO|>" in d["messages"][1]["content"] for d in desta)
    # each task samples with its own token budget, and the card says so task by task
    card = (out / "README.md").read_text()
    assert "- desta: `openai` `tiny`, temperature 0.8, top_p 0.92, max_tokens 384" in card
    budgets = {s["max_tokens"] for task in ("desta", "closed_ended_acoustic") for s in run["sampling"].get(task, [])}
    assert len(budgets) == 2 and "max_tokens 256" not in card


def test_task_options_and_partitions_are_checked_at_load_time(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=1)
    with pytest.raises(ConfigError, match="unknown option"):
        parse_recipe(recipe_dict(manifest, tmp_path / "o", [{"name": "closed_ended_template", "options": {"nope": 1}}]))
    with pytest.raises(ConfigError, match="partition"):
        parse_recipe(recipe_dict(manifest, tmp_path / "o", ["word_align_timestamps"]))
    with pytest.raises(ConfigError, match="takes no options"):
        parse_recipe(recipe_dict(manifest, tmp_path / "o", [{"name": "transcription", "options": {"a": 1}}]))


def test_answers_in_the_wrong_language_are_rejected(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.1)
    french = json.dumps({"q": "Quelle est l'émotion de la personne qui parle dans cet enregistrement ?",
                         "a": "La personne semble plutôt heureuse et détendue aujourd'hui."})
    with ChatServer(reply=lambda body: french) as server:
        data = recipe_dict(manifest, tmp_path / "out", ["closed_ended_acoustic"],
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url})
        run_recipe(parse_recipe(data), progress=False)
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    # clip 0 (happy) fails only on language; clip 1 (angry) may fail first on its labels
    assert rejects[0]["reason"] == "wrong_language" and "'fr'" in rejects[0]["message"]
    assert len(rejects) == 2 and rejects[1]["reason"] in ("wrong_language", "contradicts_labels")


def test_word_align_from_alignment_files_and_measured_prosody(tmp_path):
    """Word timings from a manifest's alignment column, per-word F0 and level from the enrich
    stage, the LLM's questions split into the main set and the timestamp partition."""
    import numpy as np
    import soundfile as sf
    from factories import write_manifest

    root = tmp_path / "corpus"
    root.mkdir()
    sr = 16_000
    # three "words": a low quiet one, a high loud one, a middle one
    segments = [(110, 0.2), (220, 0.9), (160, 0.5)]
    wave = np.concatenate([amp * np.sin(2 * np.pi * f0 * np.arange(int(0.4 * sr)) / sr) for f0, amp in segments])
    sf.write(root / "a.wav", wave.astype(np.float32), sr)
    words = [{"word": w, "start": 0.4 * i, "end": 0.4 * (i + 1)} for i, w in enumerate(["quietly", "SHOUTED", "then"])]
    (root / "a.json").write_text(json.dumps(words))
    manifest = write_manifest(root / "m.csv", [{"id": "a", "audio": "a.wav", "text": "quietly shouted then",
                                                "alignment": "a.json", "gender": "male"}])
    replies = "\n".join(json.dumps(p) for p in [
        {"q": "Which word stands out as the loudest?", "a": "The word 'shouted' is clearly the loudest."},
        {"q": "What happens at 0.4 seconds?", "a": "The pitch jumps up at that point."},
    ])
    out = tmp_path / "out"
    with ChatServer(reply=lambda body: replies) as server:
        data = recipe_dict(manifest, out, ["word_align"], features=["loudness", "pitch"], engine={"workers": 1},
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url})
        result = run_recipe(parse_recipe(data), progress=False)
        prompt = server.requests[0]["messages"][-1]["content"]
    assert "shouted" in prompt.lower() and ("higher" in prompt or "louder" in prompt)
    assert result.examples["word_align"] == 1 and result.examples["word_align_timestamps"] == 1
    [timestamps] = _rows(out, "word_align_timestamps")
    assert "0.4" in timestamps["instruction"]


def test_samples_per_prompt_apply_to_pair_tasks_with_distinct_ids(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.1)
    reply = "\n".join(json.dumps(p) for p in [{"q": "Which clip is faster?", "a": "The first one sounds quicker."}])
    counts = {}
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        with ChatServer(reply=lambda body: reply) as server:
            data = recipe_dict(manifest, out, [{"name": "comparison", "pairing": {"seed": 1}}],
                               llm={"backend": "openai", "model": "tiny", "api_base": server.url, "n": n})
            run_recipe(parse_recipe(data), progress=False)
        rows = _rows(out, "comparison")
        assert len({r["id"] for r in rows}) == len(rows)
        counts[n] = len(rows)
    assert counts[1] > 0 and counts[2] == 2 * counts[1]


def test_pairs_are_formed_from_the_measured_clips_and_each_clip_is_measured_once(tmp_path):
    """No corpus labels for pitch, rate or level: only the enrich stage knows them. The pairs are
    formed over the clip index the clip shards wrote, so the comparison tasks see the measurements."""
    from factories import write_manifest, write_tone

    root = tmp_path / "corpus"
    rows = [{"id": f"c{i}", "audio": write_tone(root / f"c{i}.wav", seconds=0.6, freq=f0, amplitude=amp).name,
             "text": "one two three", "speaker": f"spk{i % 2}", "emotion": ["happy", "sad"][i % 2]}
            for i, (f0, amp) in enumerate([(110, 0.05), (260, 0.6), (140, 0.5), (300, 0.02)])]
    manifest = write_manifest(root / "m.csv", rows)
    out = tmp_path / "out"
    with ChatServer(reply=lambda body: _qa_reply(body)) as server:
        data = recipe_dict(manifest, out, [{"name": "comparison_template", "pairing": {"seed": 0}},
                                           {"name": "comparison", "pairing": {"seed": 0}}],
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url},
                           features=["duration", "loudness", "pitch"], engine={"shard_size": 3, "workers": 1})
        run_recipe(parse_recipe(data), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["enrich"]["inputs"] == 4, "every clip measured once, in its clip shard"
    assert sorted(p.name for p in (out / ".work" / "clips").glob("*.parquet")) == ["part-00000.parquet", "part-00001.parquet"]
    template = _rows(out, "comparison_template")
    assert template and run["counts"]["task.comparison_template"]["rejected_by_reason"].get("not_measured", 0) == 0
    assert any("pitch" in r["instruction"].lower() for r in template)
    prompts = [body["messages"][-1]["content"] for body in server.requests]
    assert prompts and all('"measured"' in prompt and '"higher_pitch"' in prompt for prompt in prompts)
