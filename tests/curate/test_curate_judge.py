"""The LLM judge against a real OpenAI-compatible server on 127.0.0.1 (tests/servers.py)."""

from __future__ import annotations

import json

import pytest
from curate_helpers import FEMALE, MALE, make_example
from servers import ChatServer

from speechsift.curate import CurateConfig, Curator, apply_filters
from speechsift.curate.judge import LLMJudge, parse_verdict
from speechsift.errors import ConfigError
from speechsift.llm import make_backend
from speechsift.llm.parse import ParseError
from speechsift.recipe import LLMConfig


def reply(body):
    user = body["messages"][-1]["content"]
    response = user.split("Response: ", 1)[1]
    if "furious" in response:
        return "not json at all"
    if "stars" in response:
        return json.dumps({"score": 9, "reason": "off the scale"})
    if "boom" in response:
        return 400, {"error": {"message": "bad request", "type": "test", "code": 400}}
    if "Sounds like a woman" in response and "gender: male" in user:
        return '<think>hmm</think>```json\n{"score": 1, "reason": "Calls a man a woman."}\n```'
    return json.dumps({"score": 5, "reason": "Natural and faithful."})


def judge_config(url, **kw):
    llm = {"backend": "openai", "model": "judge", "api_base": url, "retry": {"max_attempts": 1}, "concurrency": 4}
    return CurateConfig(judge={"llm": llm, **kw})


def examples():
    return [
        make_example('Sounds like a man saying "i got the job" quickly, in a happy, upbeat tone.', meta=MALE),
        make_example('Sounds like a woman saying "i got the job" quickly.', meta=MALE, clip_id="src/c2"),
        make_example("You sound furious, calm down!", task="sift_ssp", meta=FEMALE, clip_id="src/c3"),
        make_example("Five stars for that news!", task="sift_s", clip_id="src/c4"),
        make_example("Well, boom, there it is.", task="sift_s", clip_id="src/c5"),
        make_example(None, task="transcription", clip_id="src/c6"),
    ]


def test_the_judge_scores_each_generated_example_and_isolates_failures():
    batch = examples()
    with ChatServer(reply=reply) as server:
        curator = Curator(judge_config(server.url, min_score=3))
        curator.score(batch)
    q = [e.quality for e in batch]
    assert (q[0]["judge_score"], q[0]["judge_reason"]) == (5.0, "Natural and faithful.")
    assert (q[1]["judge_score"], q[1]["judge_reason"]) == (1.0, "Calls a man a woman.")  # think block and fence
    assert q[2]["judge_error"].startswith("unparseable_json") and "judge_score" not in q[2]
    assert q[3]["judge_error"].startswith("score_out_of_range")
    assert "400" in q[4]["judge_error"] or "bad request" in q[4]["judge_error"]
    assert "judge_score" not in q[5] and "judge_error" not in q[5]  # corpus target: not judged
    assert len(server.requests) == 5
    sent = server.requests[0]
    assert sent["temperature"] == 0.0 and sent["model"] == "judge"
    user = sent["messages"][1]["content"]
    assert "Task: sit_ssp" in user and "<meta>" in user and "i got the job" in user
    assert "Instruction: Describe all information you can hear:" in user
    judge_filters = [f for f in curator.filters if f.reason == "low_judge_score"]
    _, dropped = apply_filters(batch, judge_filters)
    assert [(e.id, reason) for e, reason, _ in dropped] == [(batch[1].id, "low_judge_score")]
    assert "judge score 1 < min 3" in dropped[0][2]


def test_binary_scale():
    with ChatServer(reply=lambda body: '{"score": 1, "reason": "ok"}') as server:
        curator = Curator(judge_config(server.url, scale="binary", tasks=["sift_s"]))
        batch = examples()
        curator.score(batch)
    assert [e.quality.get("judge_score") for e in batch] == [None, None, None, 1.0, 1.0, None]
    assert '"score" is 1 when' in server.requests[0]["messages"][0]["content"]


def test_parse_verdict():
    assert parse_verdict('{"score": "4", "reason": " fine "}', "1-5") == (4.0, "fine")
    assert parse_verdict('{"score": 0}', "binary") == (0.0, None)
    bad_answers = [('{"score": 0.5}', "binary"), ('{"score": true}', "1-5"), ("[1]", "1-5"), ('{"score": 0}', "1-5")]
    for bad, scale in bad_answers:
        with pytest.raises(ParseError):
            parse_verdict(bad, scale)


def test_the_template_backend_cannot_judge():
    with pytest.raises(ConfigError, match="cannot judge"):
        LLMJudge(make_backend(LLMConfig(backend="template")))
    with pytest.raises(ValueError):
        CurateConfig(judge={"llm": {"backend": "openai", "temperature": 9}})
