"""``speechsift eval`` end to end against a stand-in speech LLM and a stand-in judge (real HTTP
servers on 127.0.0.1), on a hand-written EvalSIFT tree whose every metric is computed by hand below;
then on a real ``speechsift run`` output; faults, reruns and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import recipe_dict, release_rows, write_manifest, write_tone
from servers import ChatServer
from sift_tree import ITEMS, VERDICTS, write_tree
from speech_llm import Judge, SpeechLLM, file_hash
from typer.testing import CliRunner

from speechsift.cli import app
from speechsift.engine import run_recipe
from speechsift.errors import ConfigError, ServerUnreachableError
from speechsift.eval import run_eval
from speechsift.eval.cli_config import eval_config
from speechsift.recipe import parse_recipe


def model_server(audio: dict[str, Path], **faults) -> SpeechLLM:
    answers = {}
    for _folder, _task, _lang, clip, instruction, _reference, answer in ITEMS.values():
        if answer is not None:
            answers[(file_hash(audio[clip]), instruction)] = answer
    fail = {(file_hash(audio["a3"]), "Transcribe:")}
    flaky = {(file_hash(audio["a2"]), "Transcribe:")}
    return SpeechLLM(answers, fail=faults.get("fail", fail), flaky=flaky)


def _config(data: Path, out: Path, model_url: str, judge_url: str | None, **extra):
    overrides = {"model.api_base": model_url, "model.model": "speech-model", "model.retry.max_attempts": 2,
                 "model.retry.backoff_base_s": 0.0, "bootstrap_samples": 200, "report": False, **extra}
    if judge_url:
        overrides.update({"judge.api_base": judge_url, "judge.model": "judge"})
    return eval_config(data, out, None, overrides)


def test_every_metric_matches_hand_computed_values_and_a_rerun_asks_nothing(tmp_path):
    data, audio = write_tree(tmp_path / "sift")
    model, judge = model_server(audio), Judge(VERDICTS)
    with ChatServer(model) as model_http, ChatServer(judge) as judge_http:
        config = _config(data, tmp_path / "eval", model_http.url, judge_http.url)
        result = run_eval(config, progress=False)
        summary = result.summary
        tasks = summary["tasks"]

        def metric(task, name, language=None):
            scope = tasks[task] if language is None else tasks[task]["languages"][language]
            return scope["metrics"][name]

        # transcription (Whisper's English normalizer for en, the basic one for de):
        # t1 1 substitution of 6 words, t2 0 of 2 ("Hello, world!" normalizes to "hello world"),
        # t4 1 of 2; t3 failed (HTTP 500 twice): WER = (1 + 0 + 1) / (6 + 2 + 2)
        assert metric("transcription", "wer")["value"] == pytest.approx(2 / 10)
        assert metric("transcription", "wer") | {"value": None, "ci95": None} == {"value": None, "ci95": None, "n": 3,
                                                                                  "failed": 1}
        assert metric("transcription", "wer", "en")["value"] == pytest.approx(1 / 8)
        assert metric("transcription", "wer", "de")["value"] == pytest.approx(1 / 2)
        # characters: t1 "the" -> "a" is 3 edits ("the"->"a": 1 substitution, 2 deletions) of 22
        assert metric("transcription", "cer", "en")["value"] == pytest.approx(3 / (22 + 11))
        assert tasks["transcription"]["failed"] == 1
        # closed-ended with known answers: c1 right, c2 wrong (names "happy"), c3 right
        assert metric("closed_ended_template", "accuracy")["value"] == pytest.approx(2 / 3)
        # answer extraction: q1 exact; q2 "paris" vs "paris france": EM 0, F1 2*1*0.5/1.5
        assert metric("answer_extraction", "exact_match")["value"] == pytest.approx(0.5)
        assert metric("answer_extraction", "f1")["value"] == pytest.approx((1 + 2 / 3) / 2)
        # judged closed-ended: j1 1, j2 0, j3 the judge answered no JSON twice -> judge_unparseable
        judged = metric("closed_ended_content", "judge_accuracy")
        assert (judged["value"], judged["n"], judged["failed"]) == (pytest.approx(0.5), 2, 1)
        assert judge.asked["Maybe so."] == 2
        # open-ended: judge 8 and 6; words 4 and 3; unspeakable "(" and ")" = 2 and 0;
        # Flesch 206.835 - 1.015 * words/sentence - 84.6 * syllables/word:
        # "They seem cheerful very": 4 words, 6 syllables; "Calm and relaxed": 3 words, 4 syllables
        assert metric("open_ended", "judge_score")["value"] == pytest.approx(7.0)
        assert metric("open_ended", "words")["value"] == pytest.approx(3.5)
        assert metric("open_ended", "unspeakable")["value"] == pytest.approx(1.0)
        flesch = ((206.835 - 1.015 * 4 - 84.6 * 6 / 4) + (206.835 - 1.015 * 3 - 84.6 * 4 / 3)) / 2
        assert metric("open_ended", "flesch")["value"] == pytest.approx(flesch)
        # per language and overall: German has only t4
        assert summary["languages"]["de"]["metrics"]["wer"]["value"] == pytest.approx(0.5)
        assert summary["overall"]["metrics"]["accuracy"]["n"] == 3
        assert (summary["items"], summary["answered"], summary["failed"]) == (14, 13, 1)
        assert summary["failures"] == {"server_error": 1}
        assert summary["metric_failures"] == {"judge_unparseable": 1}
        # intervals: a bootstrap percentile interval around the value, within the metric's range
        acc = metric("closed_ended_template", "accuracy")
        assert 0.0 <= acc["ci95"][0] <= acc["value"] <= acc["ci95"][1] <= 1.0
        # the flaky audio was retried and answered; the failing one used both attempts
        assert result.counters["model.retries"] >= 2
        assert result.counters["model.sent"] == 14  # every item once (the service counts failed sends too)

        # predictions.parquet: one row per item, read back with datasets
        datasets = pytest.importorskip("datasets")
        rows = {r["id"]: r for r in datasets.load_dataset("parquet", data_files=str(tmp_path / "eval" / "predictions.parquet"),
                                                          split="train")}
        assert len(rows) == 14
        assert rows["t3"]["failed"] and rows["t3"]["failure_reason"] == "server_error" and rows["t3"]["wer"] is None
        assert rows["t1"]["hypothesis"] == "the cat sat on a mat" and rows["t1"]["wer_errors"] == 1
        assert rows["o1"]["judge_reason"] == "close to the reference" and rows["o1"]["judge_score"] == 8
        assert json.loads(rows["j3"]["metric_failures"])["judge_accuracy"]["reason"] == "judge_unparseable"
        assert "input_audio" in rows["t1"]["request"] and "digest" in rows["t1"]["request"]
        rejects = [json.loads(line) for line in (tmp_path / "eval" / "rejects.jsonl").read_text().splitlines()]
        assert {(r["id"], r["stage"], r["reason"]) for r in rejects} == {("t3", "model", "server_error"),
                                                                        ("j3", "judge", "judge_unparseable")}

        # a rerun sends nothing it has: only the failed item is asked again (it can heal)
        again = run_eval(config, progress=False)
        assert again.counters["model.sent"] == 1 and again.counters["model.ledger_hits"] == 13
        assert again.counters.get("judge.sent", 0) == 0
        assert again.summary["tasks"]["transcription"]["metrics"]["wer"] == summary["tasks"]["transcription"]["metrics"]["wer"]
        model.fail.clear()
        model.answers[(file_hash(audio["a3"]), "Transcribe:")] = "good morning to you"
        healed = run_eval(config, progress=False)
        assert healed.failed == 0 and healed.counters["model.sent"] == 1
        assert healed.summary["tasks"]["transcription"]["metrics"]["wer"]["value"] == pytest.approx(2 / 14)


def test_parts_with_both_keys_read_the_same(tmp_path):
    data, audio = write_tree(tmp_path / "sift", both_keys=True)
    with ChatServer(model_server(audio)) as model_http:
        summary = run_eval(_config(data, tmp_path / "eval", model_http.url, None, tasks=["transcription"]),
                           progress=False).summary
    assert summary["tasks"]["transcription"]["metrics"]["wer"]["value"] == pytest.approx(2 / 10)
    assert summary["notes"] == []


def test_judged_tasks_without_a_judge_are_noted_not_failed(tmp_path):
    data, audio = write_tree(tmp_path / "sift")
    with ChatServer(model_server(audio)) as model_http:
        summary = run_eval(_config(data, tmp_path / "eval", model_http.url, None, tasks=["open_ended"]),
                           progress=False).summary
    assert "judge_score" not in summary["tasks"]["open_ended"]["metrics"]
    assert summary["tasks"]["open_ended"]["metrics"]["words"]["value"] == pytest.approx(3.5)
    assert any("no judge" in note for note in summary["notes"])


def test_a_real_run_output_evaluates_through_the_cli(tmp_path):
    rows = []
    for i in range(8):
        path = write_tone(tmp_path / "corpus" / f"c{i}.wav", seconds=0.3, freq=180 + 20 * i)
        rows.append({"id": f"c{i}", "audio": path.name, "text": f"Sentence number {i}.", "speaker": f"spk{i}",
                     "gender": ["male", "female"][i % 2], "emotion": ["happy", "sad"][i % 2],
                     "language": ["en", "de"][i % 2 if i < 4 else 0]})
    manifest = write_manifest(tmp_path / "corpus" / "manifest.csv", rows)
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription", "closed_ended_template"],
                                        splits={"eval": {"per_cell": 100}})), progress=False)
    eval_rows = release_rows(out, split="eval")
    assert eval_rows, "the run held out no eval speakers"

    def reply(body):  # transcribes correctly; answers closed-ended questions with the reference
        text = " ".join(p.get("text", "") for p in body["messages"][-1]["content"] if p["type"] == "text")
        match = [r for r in eval_rows if (r["instruction"] or "") == text]
        return match[0]["response"] if match else "?"

    with ChatServer(reply) as server:
        result = CliRunner().invoke(app, ["eval", str(out), "-o", str(tmp_path / "ev"), "--api-base", server.url,
                                          "--model", "m", "--tasks", "closed_ended_template", "--no-progress",
                                          "--bootstrap", "50"])
        assert result.exit_code == 0, result.output
        summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
        expected = sum(1 for r in eval_rows if r["task"] == "closed_ended_template")
        assert summary["items"] == expected and summary["failed"] == 0
        assert summary["tasks"]["closed_ended_template"]["metrics"]["accuracy"]["value"] == 1.0
        assert (tmp_path / "ev" / "report" / "index.html").is_file()
        assert "accuracy" in result.output

        missing = CliRunner().invoke(app, ["eval", str(out), "-o", str(tmp_path / "ev2"), "--api-base", server.url,
                                           "--model", "m", "--split", "dev", "--no-progress"])
    assert missing.exit_code == 2
    assert "no `dev` split" in missing.output and "--split" in missing.output and "Traceback" not in missing.output


def test_bad_input_is_one_clear_error(tmp_path):
    data, _audio = write_tree(tmp_path / "sift")
    with pytest.raises(ConfigError, match="not in"):
        run_eval(_config(data, tmp_path / "e", "http://127.0.0.1:9/v1", None, tasks=["nope"]), progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="neither a speechsift output"):
        run_eval(_config(tmp_path / "empty", tmp_path / "e", "http://127.0.0.1:9/v1", None), progress=False)
    with pytest.raises(ConfigError, match="EvalSIFT"):
        run_eval(_config(data, tmp_path / "e", "http://127.0.0.1:9/v1", None, split="dev"), progress=False)


def test_missing_audio_fails_its_item_and_an_unreachable_server_stops_the_evaluation(tmp_path):
    data, audio = write_tree(tmp_path / "sift")
    model = model_server(audio)
    audio["a6"].unlink()
    with ChatServer(model) as model_http:
        summary = run_eval(_config(data, tmp_path / "eval", model_http.url, None, tasks=["answer_extraction"]),
                           progress=False).summary
    assert summary["failures"] == {"missing_audio": 1}
    assert summary["tasks"]["answer_extraction"]["metrics"]["f1"]["failed"] == 1
    # a server that does not answer at all stops the evaluation with one paragraph (GET /models is
    # checked first), instead of failing every item after its retries
    # naming the eval setting it came from and the flag that sets it, not the recipe's llm section
    with pytest.raises(ServerUnreachableError, match=r"^eval\.model\.api_base: the server at http://127\.0\.0\.1:9/v1 "
                       r"does not answer .*correct eval\.model\.api_base \(or --api-base\)"):
        run_eval(_config(data, tmp_path / "eval2", "http://127.0.0.1:9/v1", None, tasks=["answer_extraction"]),
                 progress=False)


def test_an_unreachable_judge_names_its_eval_setting_and_flag():
    from speechsift.eval.config import EvalModelConfig
    from speechsift.llm.base import generate, make_backend
    from speechsift.llm.types import ChatRequest, SamplingParams

    judge = make_backend(EvalModelConfig(model="judge", api_base="http://127.0.0.1:9/v1",
                                         retry={"max_attempts": 1}), "eval.judge")
    request = ChatRequest([{"role": "user", "content": "Which answer is better?"}], SamplingParams(), "judge")
    with pytest.raises(ServerUnreachableError, match=r"^eval\.judge\.api_base: .*correct eval\.judge\.api_base "
                                                     r"\(or --judge-api-base\)"):
        generate(judge, [request])
