"""The HTML report built on real run outputs (template backend), checked as a parsed page and as files."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from factories import recipe_dict, write_manifest
from pagetree import parse
from report_outputs import BOLD, SCRIPT, add_quality, make_run

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.recipe import parse_recipe
from speechsift.report import build_report

SECTIONS = [
    "summary",
    "funnel",
    "dataset",
    "labels",
    "durations",
    "responses",
    "openings",
    "domains",
    "map",
    "quality",
    "speech",
    "samples",
]
TASKS = ["transcription", "sit_ssp", "answer_extraction"]


def _page(out: Path, **kw):
    path = build_report(out, **kw)
    assert path == out / "report" / "index.html"
    html = path.read_text(encoding="utf-8")
    return html, parse(html)


def _samples(tree, task: str) -> list:
    block = tree.find("details", id=f"samples-{task}")
    return [] if block is None else list(block.iter("article", "sample"))


def _rows(out: Path, task: str) -> list[dict]:
    """The rows of ``task`` in data/ (every task of a part is in one file)."""
    return [r for part in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(part).to_pylist()
            if r["task"] == task]


def _audio_sources(tree) -> list[str]:
    return [a.attrs["src"] for a in tree.iter("audio")]


def test_every_section_is_there_with_the_run_numbers(fresh_output):
    html, tree = _page(fresh_output)
    assert [s.attrs["id"] for s in tree.iter("section")] == SECTIONS
    assert [a.attrs["href"] for a in tree.find("nav").iter("a")] == [f"#{s}" for s in SECTIONS]
    run = json.loads((fresh_output / "run.json").read_text())
    funnel = tree.find("section", id="funnel")
    stages = funnel.find("svg", cls="chart")
    for stage in run["counts"]:
        assert any(t.text.startswith(stage) for t in stages.iter("text")), stage
    reject_rows = [[td.text for td in tr.iter("td")] for tr in funnel.find("tbody").iter("tr")]
    assert ["probe_audio", "missing_audio", "1"] in [row[:3] for row in reject_rows]
    assert any(row[:2] == ["task.answer_extraction", "no_answer"] for row in reject_rows)
    assert "src/gone" in funnel.text  # the first example of a reason, from rejects.jsonl
    per_task = {t.attrs["aria-label"] for t in funnel.iter("svg")}
    assert "examples per task" in per_task
    # labels of distinct clips, per source; the duration histogram; one length histogram per task
    labels = tree.find("section", id="labels")
    assert {f.find("h4").text for f in labels.iter("figure")} >= {"emotion", "gender", "age"}
    assert tree.find("section", id="durations").find("svg", cls="chart") is not None
    lengths = tree.find("section", id="responses")
    assert [f.find("h4").text for f in lengths.iter("figure")] == TASKS
    openings = tree.find("section", id="openings")
    assert "sounds like a" in openings.text  # the template's sit_ssp responses all open this way
    assert "TF-IDF" in tree.find("section", id="map").find("figcaption").text
    circles = list(tree.find("section", id="map").iter("circle"))
    assert len(circles) == sum(run["examples"].values())
    # without a quality column, those sections say so instead of failing
    assert "No quality column" in tree.find("section", id="quality").text
    assert "No quality.domain_label or quality.domain column" in tree.find("section", id="domains").text


def test_the_page_is_static_and_self_contained(fresh_output):
    html, tree = _page(fresh_output)
    assert not list(tree.iter("script")) and not list(tree.iter("link")) and not list(tree.iter("img"))
    csp = [m.attrs["content"] for m in tree.iter("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "script-src 'none'" in csp[0]
    for node in tree.iter():
        for name in ("src", "href"):
            value = node.attrs.get(name)
            if value is not None:
                assert not re.match(r"^[a-z]+:|^/", value), f"<{node.tag} {name}={value!r}> leaves the report folder"
    assert "@import" not in html and "url(" not in html


def test_html_in_the_data_is_shown_as_text(fresh_output):
    html, tree = _page(fresh_output)
    assert SCRIPT not in html and BOLD not in html and "<i>italic" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    texts = [t.text for t in tree.iter("div", "text")]
    assert any(SCRIPT in t for t in texts) and any(BOLD in t for t in texts)  # as text, after unescaping
    assert not [b for b in tree.iter("b") if b.text == "bold"]
    assert not [i for i in tree.iter("i") if i.text == "italic"]


def test_sample_browser_has_playable_audio_per_task(fresh_output):
    html, tree = _page(fresh_output)
    run = json.loads((fresh_output / "run.json").read_text())
    for task in TASKS:
        cards = _samples(tree, task)
        assert len(cards) == run["examples"][task]
        for card in cards:
            assert card.find("audio") is not None
            assert {"Instruction", "Response"} <= {d.text for d in card.iter("div", "label")}
    sources = _audio_sources(tree)
    assert sources and all(s.startswith("audio/") for s in sources)
    for src in sources:
        wave, sr = sf.read(fresh_output / "report" / src)
        assert sr == 16_000 and len(wave) > 0
    # the AIFF clip was converted: browsers do not play AIFF
    assert not list((fresh_output / "report" / "audio").glob("*.aiff"))
    assert "converted from .aiff to FLAC" in html
    # metadata chips and generation provenance are in the cards
    sit = _samples(tree, "sit_ssp")[0]
    assert "gender" in sit.text and "Generation: template" in sit.text


def test_samples_are_capped_seeded_and_reproducible(fresh_output, tmp_path):
    html_a, tree_a = _page(fresh_output, max_samples_per_task=3, seed=1)
    for task in TASKS:
        assert len(_samples(tree_a, task)) == 3
    assert len(list((fresh_output / "report" / "audio").iterdir())) == 9  # the earlier files are gone
    html_b, _ = _page(fresh_output, max_samples_per_task=3, seed=1)
    assert html_a == html_b
    _, tree_c = _page(fresh_output, max_samples_per_task=3, seed=2)

    def ids(tree) -> list[str]:
        return [c.attrs["id"] for t in TASKS for c in _samples(tree, t)]

    assert ids(tree_a) != ids(tree_c)
    _, tree_none = _page(fresh_output, max_samples_per_task=0)
    assert not any(_samples(tree_none, t) for t in TASKS)


def test_path_mode_audio_is_copied_into_the_report(tmp_path):
    out = make_run(tmp_path, n=4, audio="path")
    rows = _rows(out, "transcription")
    assert rows[0]["audios"][0]["bytes"] is None
    _, tree = _page(out)
    sources = _audio_sources(tree)
    assert len(sources) == sum(len(_samples(tree, t)) for t in TASKS)
    for src in sources:
        sf.read(out / "report" / src)
    # the report folder stands alone: moved elsewhere, every player still finds its file
    moved = tmp_path / "elsewhere"
    shutil.copytree(out / "report", moved)
    assert all((moved / src).is_file() for src in sources)


def test_quality_scores_domains_embeddings_and_curation(fresh_output):
    dropped = add_quality(fresh_output, embedding_dim=8)
    assert sum(dropped.values()) > 0
    _, tree = _page(fresh_output, max_samples_per_task=50)
    domains = tree.find("section", id="domains")
    assert domains.find("svg", cls="chart").attrs["aria-label"] == "domains per task"
    assert {"daily life", "work", "travel", "science"} <= set(
        re.findall(r"daily life|work|travel|science", domains.text)
    )
    quality = tree.find("section", id="quality")
    charts = {s.attrs["aria-label"] for s in quality.iter("svg")}
    assert charts == {"quality.length_words", "quality.readability_flesch", "quality.domain_similarity"}
    assert "kept" in quality.text and "filtered out" in quality.text
    flags = {tr.find("td").text for tr in quality.iter("tr") if tr.find("td") is not None}
    assert {"quality.leakage_flag", "quality.length_empty", "quality.language_error"} <= flags
    assert "label_echo" in quality.text  # the text fields table, with its most common value
    assert "2 fields have no value in any examplequality.judge_score, quality.dedup_of" in quality.text
    assert "embedding column (8 dimensions)" in tree.find("section", id="map").find("figcaption").text
    funnel = tree.find("section", id="funnel")
    assert "Curation" in funnel.text and "curate" in funnel.text
    for task, n in dropped.items():
        cards = _samples(tree, task)
        bad = [c for c in cards if "dropped" in c.attrs["class"].split()]
        assert 0 < len(bad) <= max(1, 50 // 5) and len(bad) <= n
        assert all("curate: leakage" in c.text for c in bad)
        assert all("leakage_flag" in [chip.text for chip in c.iter("span", "flag")] for c in bad)
        kept_cards = [c for c in cards if c not in bad]
        assert not any("leakage_flag" in [chip.text for chip in c.iter("span", "flag")] for c in kept_cards)
        assert all("scores" in c.find("details").text for c in cards)  # each card folds its scores away
    assert "kept by curation" in tree.find("section", id="summary").text


def test_multi_clip_examples_get_one_player_per_clip(fresh_output):
    for part in (fresh_output / "data").glob("*.parquet"):
        table = pq.read_table(part)
        pairs = [cells * 2 if task == "transcription" else cells
                 for task, cells in zip(table.column("task").to_pylist(), table.column("audios").to_pylist())]
        index = table.schema.get_field_index("audios")
        table = table.set_column(index, "audios", pa.array(pairs, table.schema.field("audios").type))
        pq.write_table(table, part)
    _, tree = _page(fresh_output)
    card = _samples(tree, "transcription")[0]
    sources = [a.attrs["src"] for a in card.iter("audio")]
    assert len(sources) == 2 and sources[0].endswith("-0.flac") and sources[1].endswith("-1.flac")


def test_missing_run_json_and_rejects_degrade_to_notes(fresh_output):
    (fresh_output / "run.json").unlink()
    (fresh_output / "rejects.jsonl").unlink()
    html, tree = _page(fresh_output)
    assert "run.json is missing" in tree.find("section", id="funnel").text
    assert _samples(tree, "transcription")


def test_a_run_with_no_examples_still_gets_a_report(tmp_path):
    manifest = write_manifest(tmp_path / "m.csv", [{"id": "a", "audio": "nowhere.wav", "text": "x"}])
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription"])), progress=False)
    _, tree = _page(out)
    assert "missing_audio" in tree.find("section", id="funnel").text
    assert "No examples" in tree.find("section", id="samples").text


def test_a_folder_that_is_no_run_output_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a speechsift output folder"):
        build_report(tmp_path)


def test_unreadable_audio_is_reported_in_the_card_not_raised(tmp_path):
    out = make_run(tmp_path, n=3, audio="path")
    for part in (out / "data").rglob("*.parquet"):
        table = pq.read_table(part)
        cells = [[{"bytes": None, "path": str(tmp_path / "deleted.flac")}] for _ in range(table.num_rows)]
        index = table.schema.get_field_index("audios")
        table = table.set_column(index, "audios", pa.array(cells, table.schema.field("audios").type))
        pq.write_table(table, part)
    _, tree = _page(out)
    assert not list(tree.iter("audio"))
    assert "audio file not readable" in tree.find("section", id="samples").text


def test_audio_bytes_written_are_the_embedded_ones(fresh_output):
    _, tree = _page(fresh_output)
    rows = {r["id"]: r for r in _rows(fresh_output, "transcription")}
    checked = 0
    for card in _samples(tree, "transcription"):
        row = rows[card.attrs["id"].removeprefix("ex-")]
        if row["audios"][0]["bytes"].startswith(b"FORM"):  # AIFF: converted to FLAC for the browser
            continue
        src = card.find("audio").attrs["src"]
        assert (fresh_output / "report" / src).read_bytes() == row["audios"][0]["bytes"]
        sf.read(io.BytesIO(row["audios"][0]["bytes"]))
        checked += 1
    assert checked


def test_pairs_measured_labels_and_other_scripts_are_shown_as_they_are(tmp_path):
    """A run with features (meta.label_sources), a pair task and French transcripts: pair rows are
    two clips each, never a clip of their own; label_sources is no label; French letters stay."""
    from factories import make_corpus

    manifest = make_corpus(tmp_path / "corpus", n=6, seconds=0.2)
    rows = manifest.read_text().splitlines()
    manifest.write_text("\n".join([rows[0]] + [r.replace("Sentence number", "Ça fait déjà") for r in rows[1:]]) + "\n")
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription", {"name": "comparison_template"}],
                                        features=["duration"], engine={"workers": 1})), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["examples"]["comparison_template"] > 0
    _, tree = _page(out)
    cards = {c.find("div", cls="k").text: c.find("div", cls="v").text
             for c in tree.find("section", id="summary").iter("div", cls="card")}
    assert cards["distinct clips"] == "6", "pair rows are two clips each, not a clip of their own"
    labels = {f.find("h4").text for f in tree.find("section", id="labels").iter("figure")}
    assert "emotion" in labels and "label_sources" not in labels
    assert "ça fait déjà" in tree.find("section", id="openings").text


def test_kept_by_curation_counts_only_curation_drops(tmp_path):
    """Curation with splits and a mixture: examples the splits (held-out speakers) or the mixture
    (not sampled) leave out of data/ passed curation, so the summary card and the funnel's Curation
    table count them as kept (complete/'s drop_stage), not as filtered by curation."""
    from factories import make_corpus

    manifest = make_corpus(tmp_path / "corpus", n=30, seconds=0.1)
    rows = manifest.read_text().splitlines()
    rows = [rows[0]] + [line.replace(f",spk{i % 3},", f",spk{i},") for i, line in enumerate(rows[1:])]
    for i in (1, 2, 3):  # three transcripts curation finds too short
        rows[i + 1] = rows[i + 1].replace(f"Sentence number {i}.", "Hi.")
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription", "sit_ssp"],
                                        curate={"dedup": "near", "language_check": False,
                                                "min_words": {"transcription": 2}},
                                        splits={"eval": {"per_cell": 3}, "seed": 1}, mix={"size": 20, "seed": 2})),
               progress=False)
    run = json.loads((out / "run.json").read_text())
    curate = run["counts"]["curate"]
    assert curate["rejected"] >= 1 and run["counts"]["split"]["rejected"] and run["counts"]["mix"]["rejected"]
    complete = pa.concat_tables(pq.read_table(p) for p in sorted((out / "complete").glob("*.parquet")))
    stages = complete.column("drop_stage").to_pylist()
    assert {"curate", "split", "mix", None} == set(stages)
    assert stages.count("curate") == curate["rejected"]
    _, tree = _page(out)
    card = next(c for c in tree.find("section", id="summary").iter("div", cls="card")
                if c.find("div", cls="k").text == "kept by curation")
    assert card.find("div", cls="d").text == f"{curate['outputs']} of {curate['inputs']} scored"
    curation = list(tree.find("section", id="funnel").iter("table"))[-1]
    kept = {row.find("td").text: [td.text for td in row.iter("td")][1:4] for row in curation.iter("tr")
            if row.find("td") is not None}
    tasks = complete.column("task").to_pylist()
    for task, (scored, kept_n, filtered) in kept.items():
        dropped = sum(1 for t, s in zip(tasks, stages) if t == task and s == "curate")
        assert (int(scored), int(kept_n), int(filtered)) == (tasks.count(task), tasks.count(task) - dropped, dropped)
    assert sum(int(v[1]) for v in kept.values()) == curate["outputs"] > run["counts"]["mix"]["outputs"]
