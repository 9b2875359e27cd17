"""Output parsing: think tags, truncation, JSON and JSON lines with reject reasons."""

from __future__ import annotations

import pytest

from speechsift.llm.parse import ParseError, is_truncated, parse_json, parse_json_lines, strip_think


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<think>hmm</think>Hello", "Hello"),
        ("<think>\n\n</think>\n\nHello there.", "Hello there."),
        ("<THINK>a</THINK> b <think>c</think> d", "b  d"),
        ("reasoning the template opened</think>Answer", "Answer"),
        ("Answer <think>never closed", "Answer"),
        ("  plain  ", "plain"),
    ],
)
def test_strip_think(raw, clean):
    assert strip_think(raw) == clean


def test_truncation():
    assert is_truncated("length") and not is_truncated("stop") and not is_truncated(None)


def test_parse_json_accepts_fences_and_think():
    assert parse_json('<think>x</think>```json\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(ParseError) as error:
        parse_json("{'a': 1}")
    assert error.value.reason == "unparseable_json"
    with pytest.raises(ParseError) as error:
        parse_json("<think>only thoughts</think>")
    assert error.value.reason == "empty_response"


def test_parse_json_lines():
    text = '{"q": "Who speaks?", "a": "A woman."}\nnot json\n{"q": "", "a": "x"}\n{"q": "Mood?", "a": "Happy."},'
    assert parse_json_lines(text, ("q", "a")) == [{"q": "Who speaks?", "a": "A woman."}, {"q": "Mood?", "a": "Happy."}]
    assert parse_json_lines('[{"q": "a", "a": "b"}]', ("q", "a")) == [{"q": "a", "a": "b"}]
    assert parse_json_lines('```jsonl\n{"q": "a", "a": "b"}\n```', ("q", "a")) == [{"q": "a", "a": "b"}]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("Sure! Here are questions: 1. Who?", "unparseable_json"), ('{"question": "x"}', "missing_keys"), ("  ", "empty_response"), ("[1, 2]", "unparseable_json")],
)
def test_parse_json_lines_rejects(text, reason):
    with pytest.raises(ParseError) as error:
        parse_json_lines(text, ("q", "a"))
    assert error.value.reason == reason
