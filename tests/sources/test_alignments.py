"""Word timings from TextGrid (long and short), CTM and JSON files (sources.alignments)."""

from __future__ import annotations

import json

import pytest
from factories import make_clip

from speechsift.errors import CorpusError
from speechsift.sources.alignments import attach_words, parse_textgrid, read_alignment, read_ctm, read_textgrid

WORDS = [{"word": "hello", "start_s": 0.1, "end_s": 0.5}, {"word": "wor\"ld", "start_s": 0.62, "end_s": 1.2}]

LONG = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.5
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 1.5
            text = "HH AH0"
    item [2]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.5
        intervals: size = 5
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = ""
        intervals [2]:
            xmin = 0.1
            xmax = 0.5
            text = "hello"
        intervals [3]:
            xmin = 0.5
            xmax = 0.62
            text = "sp"
        intervals [4]:
            xmin = 0.62
            xmax = 1.2
            text = "wor""ld"
        intervals [5]:
            xmin = 1.2
            xmax = 1.5
            text = ""
'''

SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"TextTier"
"events"
0
1.5
1
0.3
"click"
"IntervalTier"
"Words"
0
1.5
3
0
0.1
""
0.1
0.5
"hello"
0.62
1.2
"wor""ld"
'''


def test_long_textgrid(tmp_path):
    path = tmp_path / "utt.TextGrid"
    path.write_text(LONG, encoding="utf-8")
    assert read_textgrid(path) == WORDS
    assert read_alignment(path) == WORDS


def test_short_textgrid_in_utf16(tmp_path):
    path = tmp_path / "utt.TextGrid"
    path.write_bytes(SHORT.encode("utf-16"))
    assert read_textgrid(path) == WORDS


def test_named_tier_and_missing_tier():
    assert [w["word"] for w in parse_textgrid(LONG, tier="phones")] == ["HH AH0"]
    with pytest.raises(CorpusError, match="no interval tier named 'syllables'; the tiers are phones, words"):
        parse_textgrid(LONG, tier="syllables")
    with pytest.raises(CorpusError, match="no word tier"):
        parse_textgrid(LONG.replace('"words"', '"tokens"'), origin="x.TextGrid")


def test_malformed_textgrid_names_the_file():
    with pytest.raises(CorpusError, match="ends early"):
        parse_textgrid(LONG[: LONG.index("intervals [4]")], origin="cut.TextGrid")
    with pytest.raises(CorpusError, match="not a Praat TextGrid"):
        parse_textgrid('File type = "ooTextFile"\nObject class = "Pitch 1"\n')
    with pytest.raises(CorpusError, match="bad word timing"):
        parse_textgrid(LONG.replace("xmax = 0.5\n            text = \"hello\"", "xmax = 0.05\n            text = \"hello\""))


def test_ctm_with_many_utterances(tmp_path):
    path = tmp_path / "align.ctm"
    path.write_text(
        ";; made by an aligner\n"
        "utt2 1 0.00 0.30 yes 0.98\n"
        "utt1 1 0.62 0.58 world\n"
        "utt1 1 0.10 0.40 hello\n"
        "utt1 1 0.50 0.12 <eps>\n",
        encoding="utf-8",
    )
    table = read_ctm(path)
    assert table["utt1"] == [{"word": "hello", "start_s": 0.1, "end_s": 0.5}, {"word": "world", "start_s": 0.62, "end_s": 1.2}]
    assert read_alignment(path, utterance="utt2") == [{"word": "yes", "start_s": 0.0, "end_s": 0.3}]
    with pytest.raises(CorpusError, match="holds 2 utterances"):
        read_alignment(path)
    path.write_text("utt1 1 0.1 word\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"align.ctm line 1: expected"):
        read_ctm(path)


def test_json_words(tmp_path):
    path = tmp_path / "utt.json"
    path.write_text(json.dumps([{"word": "world", "start": 0.62, "end": 1.2}, {"text": "hello", "start_s": 0.1, "end_s": 0.5}]))
    assert [w["word"] for w in read_alignment(path)] == ["hello", "world"]
    path.write_text(json.dumps({"words": [{"word": "a", "start": 0, "end": "1"}]}))
    with pytest.raises(CorpusError, match="entry 0: end must be a number"):
        read_alignment(path)
    with pytest.raises(CorpusError, match="unknown alignment format"):
        read_alignment(tmp_path / "x.lab")


def test_attach_words_returns_a_copy():
    clip = make_clip(answers=["x"])
    with_words = attach_words(clip, WORDS)
    assert with_words.extra == {"answers": ["x"], "words": WORDS} and clip.extra == {"answers": ["x"]}
