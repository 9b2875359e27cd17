"""The report's building blocks: escaping, chart axes, the projection, openings, sampling, audio sniffing."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import soundfile as sf
from pagetree import parse

from speechsift.report import aggregate, projection, samples, stats, svg
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
    hist = stats.histogram_of([("a", stats.Values.of(np.array([1.0, 2, 2, 3, 50])))], bins=10, upper_quantile=0.5)
    assert hist.overflow and hist.series[0][1].sum() == 5  # the outlier lands in the last bin, not lost
    integer = stats.histogram_of([("a", stats.Values.of(np.array([1.0, 1, 2])))], integer=True)
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
    assert aggregate.openings(table.column("response").combine_chunks(), table.num_rows).to_pylist() == [
        "sure the speaker sounds",
        "sure the speaker sounds",
        "(empty)",
        "hi",
        "snake case words here",
    ]


def test_openings_keep_the_letters_of_every_script():
    table = pa.table({"response": ["Ça fait déjà longtemps !", "Für mich: klar.", "¿Qué tal, señora?", "声音 很 好"]})
    assert aggregate.openings(table.column("response").combine_chunks(), table.num_rows).to_pylist() == ["ça fait déjà longtemps", "für mich klar", "qué tal señora", "声音 很 好"]


def test_map_quotas_keep_small_tasks_visible():
    quota = projection.quotas({"big": 10_000, "small": 30, "none": 0}, 400)
    assert quota["small"] == 30 and sum(quota.values()) <= 430 and "none" not in quota
    assert projection.quotas({"big": 100}, 400) == {"big": 100}


def test_draw_takes_distinct_ids_per_task_and_merges_part_by_part():
    tasks = pa.array(["a"] * 6 + ["b"] * 2)
    ids = ["x", "x", "y", "y", "z", "w", "p", "q"]
    whole = aggregate.Draw(10, seed=0)
    whole.add(tasks, pa.table({"id": ids, "row": list(range(8))}))
    assert sorted(whole.rows["a"].column("id").to_pylist()) == ["w", "x", "y", "z"] and whole.rows["b"].num_rows == 2
    # a draw of 2 over two parts equals the draw of 2 over the whole: the smallest seeded hashes
    halves, once = aggregate.Draw(2, seed=3), aggregate.Draw(2, seed=3)
    halves.add(tasks.slice(0, 4), pa.table({"id": ids[:4]}))
    halves.add(tasks.slice(4), pa.table({"id": ids[4:]}))
    once.add(tasks, pa.table({"id": ids}))
    assert {t: r.column("id").to_pylist() for t, r in halves.rows.items()} == \
        {t: r.column("id").to_pylist() for t, r in once.rows.items()}


def test_values_merged_part_by_part_match_numpy():
    rng = np.random.default_rng(0)
    data = rng.gamma(2.0, 3.0, 50_000)
    values = aggregate.Values()
    for chunk in np.array_split(data, 7):  # more than EXACT values: counted, rounded to 4 digits
        values.add(chunk)
    assert values.n == data.size and values.min == data.min() and values.max == data.max()
    assert np.isclose(values.sum, data.sum())
    for q in (0.05, 0.5, 0.95):
        assert abs(values.quantile(q) - np.quantile(data, q)) <= 1e-3 * np.quantile(data, q)
    small = aggregate.Values.of(np.array([1.0, 2.0, np.nan, 4.0]))
    assert small.n == 3 and small.quantile(0.5) == 2.0 and small.integer  # exact while few


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


def test_quality_fields_by_kind_from_a_struct_or_a_map():
    struct = pa.array(
        [
            {"score": 0.5, "flagged": True, "domain_label": "work", "flags": ["a", "b"], "count": 3},
            {"score": None, "flagged": False, "domain_label": None, "flags": [], "count": 4},
        ]
    )
    quality = aggregate.QualityStats()
    quality.add(struct, pa.array(["t", "t"]), None)
    assert set(quality.numeric_fields) == {"score", "count"} and quality.flag_fields == ["flagged"]
    assert quality.domains["domain_label"] == Counter({("t", "work"): 1, ("t", stats.MISSING): 1})
    assert quality.lists["flags"] == Counter({("a", "t"): 1, ("b", "t"): 1})
    assert quality.series("count").quantile(0.5) == 3.5 and quality.flags[("flagged", "t")] == 1
    mapped = pa.array([[("words", 3.0)], [("words", 5.0), ("leak", 1.0)]], pa.map_(pa.string(), pa.float64()))
    quality = aggregate.QualityStats()
    quality.add(mapped, pa.array(["t", "u"]), np.array([True, False]))
    assert quality.series("words").n == 2 and quality.series("leak").n == 1
    assert quality.series("words", state=aggregate.KEPT).max == 3.0
    assert quality.kept == Counter({"t": 1}) and quality.totals == Counter({"t": 1, "u": 1})


def test_ticks_of_values_a_rounding_error_apart_are_few():
    """Two scores 1e-14 apart once made the tick loop add a step below the values' precision forever."""
    assert svg.nice_ticks(52.5825, 52.58250000000001) == [52.6, 52.8, 53.0, 53.2, 53.4]
    assert svg.nice_ticks(1e6, 1e6 + 1e-7) == svg.nice_ticks(1e6, 1e6)
    assert svg.nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10] and svg.nice_ticks(-3, 17, 4) == [0, 5, 10, 15]
