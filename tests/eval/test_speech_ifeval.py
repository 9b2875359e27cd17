"""A Speech-IFEval-format file scored end to end: strict instruction- and prompt-level rates per
subset and constraint group, the chain-of-thought subset by a YES/NO judge, the task metric of
closed-ended items, and forgetting against a text backbone given the textual audio description."""

from __future__ import annotations

import json

import pytest
from factories import write_tone
from servers import ChatServer
from speech_llm import Judge, SpeechLLM, file_hash

from speechsift.eval import run_eval
from speechsift.eval.cli_config import eval_config

# (id, metric, label, instruction, ids, kwargs, the speech model's answer, the text model's answer)
RECORDS = [
    ("s1", "wer", "HELLO WORLD", "Transcribe the speech.\nYour entire response should be in capital letters.",
     ["change_case:english_capital"], [{}], "HELLO WORLD", "HELLO WORLD"),
    ("s2", "acc", "sad", 'Which emotion? Choose the answer from "happy" or "sad".\nWrap your entire output in JSON format.',
     ["detectable_format:json_format"], [{}], '{"answer": "sad"}', '{"answer": "sad"}'),
    ("s3", "acc", "happy", 'Which emotion? Choose the answer from "happy" or "sad".\nAnswer in lowercase only.',
     ["change_case:english_lowercase"], [{}], "Happy", "happy"),
    ("s4", "open", None, "Write a poem about the voice in less than 5 words.",
     ["length_constraints:number_words"], [{"num_words": 5, "relation": "less than"}], "A short happy poem.",
     "Short poem here."),
    ("s5", "open", None, "Write about the weather with a title in << >> and the word rain.",
     ["detectable_format:title", "keywords:existence"], [{}, {"keywords": ["rain"]}], "<<Rain>> rain falls",
     "<<Rain>> rain"),
    ("s6", "cot", None, "What is the emotion? Think step by step.", [], [], "First, the tone is low. So: sad.",
     "Step one: the words are gloomy. So sad."),
    ("s7", "cot", None, "Is the speaker male? Think step by step.", [], [], "yes", "Step one: low pitch. So yes."),
]
COT = {"First, the tone is low. So: sad.": "YES", "yes": "NO, it only states a result.",
       "Step one: the words are gloomy. So sad.": "YES", "Step one: low pitch. So yes.": "YES"}


def test_speech_ifeval_file_end_to_end_with_forgetting(tmp_path):
    lines, answers, text_answers = [], {}, {}
    for k, (item_id, metric, label, instruction, ids, kwargs, speech, text) in enumerate(RECORDS):
        path = write_tone(tmp_path / "data" / "audio" / f"{item_id}.wav", seconds=0.3, freq=200 + 30 * k)
        record = {"id": item_id, "audio_filepath": f"audio/{item_id}.wav", "textual_audio": f"(a voice, clip {item_id})",
                  "instruction": instruction, "dataset": "demo", "metric": metric, "instruction_id_list": ids,
                  "kwargs": kwargs, "label": label}
        lines.append(json.dumps(record))
        answers[(file_hash(path), instruction)] = speech
        text_answers[f"(a voice, clip {item_id})\n\n{instruction}"] = text
    data = tmp_path / "data" / "speech-ifeval.jsonl"
    data.write_text("\n".join(lines) + "\n")
    judge = Judge(COT)
    with ChatServer(SpeechLLM(answers)) as model, ChatServer(lambda body: text_answers[body["messages"][-1]["content"]]
                                                             ) as text_model, ChatServer(judge) as judge_http:
        config = eval_config(data, tmp_path / "eval", None, {
            "model.api_base": model.url, "model.model": "speech", "text_model.api_base": text_model.url,
            "text_model.model": "backbone", "judge.api_base": judge_http.url, "judge.model": "judge",
            "bootstrap_samples": 200, "report": False})
        summary = run_eval(config, progress=False).summary
    tasks = summary["tasks"]
    closed = tasks["speech_ifeval/closed_ended"]["metrics"]
    # s1 and s2 follow their constraint, s3 ("Happy") breaks lowercase
    assert closed["if_strict_prompt"]["value"] == pytest.approx(2 / 3)
    assert closed["if_strict_instruction"]["value"] == pytest.approx(2 / 3)
    assert closed["if_strict_instruction.change_case"]["value"] == pytest.approx(1 / 2)
    assert closed["if_strict_instruction.detectable_format"]["value"] == pytest.approx(1.0)
    assert closed["wer"]["value"] == pytest.approx(0.0) and closed["wer"]["n"] == 1
    assert closed["accuracy"]["value"] == pytest.approx(1.0) and closed["accuracy"]["n"] == 2
    creative = tasks["speech_ifeval/creative_writing"]["metrics"]
    assert creative["if_strict_prompt"]["value"] == 1.0 and creative["if_strict_instruction"]["value"] == 1.0
    cot = tasks["speech_ifeval/chain_of_thought"]["metrics"]
    assert cot["if_cot"]["value"] == pytest.approx(0.5) and cot["if_cot"]["n"] == 2
    block = summary["speech_ifeval"]
    # IF rate: the mean of the subsets' rates (2/3, 1, 1/2); the text backbone follows everything
    assert block["if_rate"]["value"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    assert block["if_rate"]["subsets"] == pytest.approx({"closed_ended": 2 / 3, "creative_writing": 1.0,
                                                         "chain_of_thought": 0.5})
    assert block["if_rate_text"]["value"] == pytest.approx(1.0)
    assert block["forgetting"]["value"] == pytest.approx(100 * ((2 / 3 + 1 + 1 / 2) / 3 - 1.0))
    assert block["forgetting"]["n"] == 7
    assert summary["failed"] == 0 and summary["notes"] == []


def test_a_malformed_speech_ifeval_record_names_the_line(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"audio_filepath": "a.wav", "instruction": "x", "instruction_id_list": ["a", "b"],
                                "kwargs": [{}]}) + "\n")
    from speechsift.errors import ConfigError

    with pytest.raises(ConfigError, match="line 1: instruction_id_list has 2 entries but kwargs has 1"):
        run_eval(eval_config(data, tmp_path / "e", None, {"model.api_base": "http://127.0.0.1:9/v1",
                                                          "model.model": "m"}), progress=False)
