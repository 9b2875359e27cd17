"""The report's building blocks: escaping, chart axes, the projection, openings, sampling, audio sniffing."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pyarrow as pa
import soundfile as sf
from pagetree import parse

from speechsift.report import projection, samples, stats, svg
from speechsift.report.html import Markup, el, escape, fmt_hours


def test_el_escapes_text_and_attributes_but_not_markup():
    html = el("div", "<script>x()</script>", el("b", "ok"), title='"><script>', class_="a b", hidden=True, skip=None)
    assert html == (
        '<div title="&quot;&gt;&lt;script&gt;" class="a b" hidden>&lt;script&gt;x()&lt;/script&gt;<b>ok</b></div>'
    )
    assert isinstance(html, Markup) and escape(html) is html
    assert el("audio", controls=True, src="audio/x.flac") == '<audio controls src="audio/x.flac"></audio>'
    assert el("meta", charset="utf-8") == '<meta charset="utf-8">'
    assert el("svg", viewBox="0 0 1 1", aria_label="x") == '<svg viewBox="0 0 1 1" aria-label="x"></svg>'


def test_charts_escape_labels_and_cover_the_data():
    chart = svg.hbar([("<b>label</b>", 3), ("other", 1)], total=4)
    tree = parse(chart)
    assert not list(tree.iter("b")) and "<b>label</b>" in tree.text
    assert svg.axis_ticks(35) == [0, 10, 20, 30, 40]
    assert svg.nice_ticks(0, 1, 4) == [0, 0.25, 0.5, 0.75, 1.0]
    hist = stats.histogram(
        np.array([1.0, 2, 2, 3, 50]), np.array(["a"] * 5, dtype=object), ["a"], bins=10, upper_quantile=0.5
    )
    assert hist.overflow and hist.series[0][1].sum() == 5  # the outlier lands in the last bin, not lost
    integer = stats.histogram(np.array([1.0, 1, 2]), np.array(["a"] * 3, dtype=object), ["a"], integer=True)
    assert list(integer.edges[:3]) == [-0.5, 0.5, 1.5] and integer.series[0][1].tolist()[:3] == [0, 2, 1]


def test_pca_separates_clusters_and_is_reproducible():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.1, (50, 20)) + 3
    b = rng.normal(0, 0.1, (50, 20)) - 3
    result = projection.pca_2d(np.vstack([a, b]), seed=0)
    x = result.xy[:, 0]
    assert (np.sign(x[:50]) != np.sign(x[50:])).all() and result.explained[0] > 0.9
    again = projection.pca_2d(np.vstack([a, b]), seed=0)
    assert np.allclose(result.xy, again.xy)
    assert projection.pca_2d(np.ones((10, 4))) is None
    assert projection.pca_2d(np.ones((2, 4))) is None


def test_tfidf_vectors_are_stable_across_processes():
    texts = ["the speaker sounds happy", "the speaker sounds sad", "a young man says hello"]
    here = projection.hashed_tfidf(texts)
    assert np.allclose(np.linalg.norm(here, axis=1), 1.0)
    code = (
        "import sys, numpy as np; from speechsift.report.projection import hashed_tfidf; "
        f"np.save(sys.stdout.buffer, hashed_tfidf({texts!r}))"
    )
    there = np.load(io.BytesIO(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout))
    assert np.array_equal(here, there)  # crc32, not Python's salted hash()


def test_openings_ignore_case_and_punctuation():
    table = pa.table(
        {
            "response": [
                "Sure! The speaker sounds happy.",
                "sure, the speaker sounds sad",
                None,
                "Hi",
                "snake_case_words here",
            ]
        }
    )
    assert stats.openings(table).tolist() == [
        "sure the speaker sounds",
        "sure the speaker sounds",
        "(empty)",
        "hi",
        "snake case words here",
    ]


def test_openings_keep_the_letters_of_every_script():
    table = pa.table({"response": ["Ça fait déjà longtemps !", "Für mich: klar.", "¿Qué tal, señora?", "声音 很 好"]})
    assert stats.openings(table).tolist() == ["ça fait déjà longtemps", "für mich klar", "qué tal señora", "声音 很 好"]


def test_stratified_sample_keeps_small_tasks_visible():
    groups = np.array(["big"] * 10_000 + ["small"] * 30, dtype=object)
    rows = projection.stratified_sample(groups, ["big", "small"], 400, np.random.default_rng(0))
    picked = groups[rows]
    assert (picked == "small").sum() == 30 and len(rows) <= 430
    assert len(projection.stratified_sample(groups[:100], ["big"], 400, np.random.default_rng(0))) == 100


def test_choose_takes_distinct_ids_per_task():
    tasks = np.array(["a"] * 6 + ["b"] * 2, dtype=object)
    ids = np.array(["x", "x", "y", "y", "z", "w", "p", "q"], dtype=object)
    chosen = samples.choose(tasks, ids, ["a", "b"], 10, np.random.default_rng(0))
    assert sorted(ids[chosen["a"]].tolist()) == ["w", "x", "y", "z"] and len(chosen["b"]) == 2


def test_sniffing_and_conversion_of_audio(tmp_path):
    def encoded(fmt: str) -> bytes:
        buffer = io.BytesIO()
        sf.write(buffer, np.zeros(1600, dtype=np.float32), 16_000, format=fmt)
        return buffer.getvalue()

    assert samples.sniff_extension(encoded("FLAC")) == ".flac"
    assert samples.sniff_extension(encoded("WAV")) == ".wav"
    assert samples.sniff_extension(encoded("OGG")) == ".ogg"
    assert samples.sniff_extension(b"ID3\x03rest") == ".mp3"
    assert samples.sniff_extension(b"nothing known") is None
    converted = samples.write_audio({"bytes": encoded("AIFF"), "path": "x.aiff"}, "ex", tmp_path / "audio", tmp_path)
    assert converted.href == "audio/ex.flac" and "converted" in converted.note
    assert sf.info(tmp_path / "audio" / "ex.flac").frames == 1600
    missing = samples.write_audio({"bytes": None, "path": "gone.flac"}, "ex2", tmp_path / "audio", tmp_path)
    assert missing.href is None and "not readable" in missing.note
    assert samples.safe_stem("../../etc/passwd") == "etc_passwd"


def test_amounts_of_audio_read_naturally():
    assert fmt_hours(10 / 3600) == "10 s"
    assert fmt_hours(0.5) == "30.0 min"
    assert fmt_hours(12.34) == "12.3 h"


def test_quality_columns_by_kind_from_a_struct_or_a_map():
    struct = pa.table(
        {
            "quality": pa.array(
                [
                    {"score": 0.5, "flagged": True, "domain_label": "work", "flags": ["a", "b"], "count": 3},
                    {"score": None, "flagged": False, "domain_label": None, "flags": [], "count": 4},
                ]
            )
        }
    )
    columns = stats.quality_columns(struct)
    assert set(columns.numeric) == {"score", "count"} and set(columns.flags) == {"flagged"}
    assert columns.categorical["domain_label"].tolist() == ["work", stats.MISSING]
    assert columns.flag_lists["flags"] == [["a", "b"], []]
    mapped = pa.table(
        {"quality": pa.array([[("words", 3.0)], [("words", 5.0), ("leak", 1.0)]], pa.map_(pa.string(), pa.float64()))}
    )
    columns = stats.quality_columns(mapped)
    assert columns.numeric["words"].tolist() == [3.0, 5.0]
    assert np.isnan(columns.numeric["leak"][0]) and columns.numeric["leak"][1] == 1.0
    assert stats.quality_columns(pa.table({"id": ["x"]})) is None


def test_ticks_of_values_a_rounding_error_apart_are_few():
    """Two scores 1e-14 apart once made the tick loop add a step below the values' precision forever."""
    assert svg.nice_ticks(52.5825, 52.58250000000001) == [52.6, 52.8, 53.0, 53.2, 53.4]
    assert svg.nice_ticks(1e6, 1e6 + 1e-7) == svg.nice_ticks(1e6, 1e6)
    assert svg.nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10] and svg.nice_ticks(-3, 17, 4) == [0, 5, 10, 15]
