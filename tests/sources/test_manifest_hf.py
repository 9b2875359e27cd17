"""The manifest and hf sources: column recognition, field mapping, rows that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import make_corpus, recipe_dict, write_manifest, write_tone

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError, CorpusError
from speechsift.recipe import parse_recipe
from speechsift.sources import RejectedRow, read_hf, read_manifest


def test_csv_usual_column_names_are_recognized(tmp_path):
    write_tone(tmp_path / "a.wav")
    manifest = write_manifest(
        tmp_path / "m.csv",
        [{"clip_id": "a", "path": "a.wav", "sentence": "Hi", "client_id": "s1", "locale": "fr",
          "major_emotion": "joy", "sex": "F", "age": "fourties", "accents": "  Québec  ", "answers": '["Oui", "oui"]'}],
    )
    [clip] = list(read_manifest(manifest, source="cv", language="en"))
    assert clip.clip_id == "cv/a" and clip.text == "Hi" and clip.speaker_id == "s1"
    assert clip.language == "fr", "a row's own language wins over the source default"
    assert clip.audio.path == str(tmp_path / "a.wav")
    assert clip.raw == {"emotion": "joy", "gender": "F", "age": "fourties", "accent": "  Québec  "}
    assert clip.extra == {"answers": ["Oui", "oui"]}


def test_fields_mapping_overrides_the_usual_names(tmp_path):
    manifest = write_manifest(tmp_path / "m.csv", [{"wav": "/abs/x.flac", "words": "hello", "feeling": "ANG"}])
    [clip] = list(read_manifest(manifest, source="s", fields={"text": "words", "emotion": "feeling"}))
    assert clip.text == "hello" and clip.raw["emotion"] == "ANG" and clip.audio.path == "/abs/x.flac"
    assert clip.clip_id == "s/row1"
    with pytest.raises(CorpusError, match="fields.text names column 'nope'"):
        list(read_manifest(manifest, source="s", fields={"text": "nope"}))
    with pytest.raises(CorpusError, match="unknown field"):
        list(read_manifest(manifest, source="s", fields={"mood": "feeling"}))


def test_audio_cells_become_paths_and_short_rows_read_as_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "id,audio,text,emotion\n"
        "a,  clips/a b.wav ,hello,happy\n"  # relative, padded: relative to the manifest's folder
        "b,/data/b.wav,,\n"  # absolute: kept
        "c,~/c.wav,x,sad\n"  # home: expanded
        "d,d.wav\n"  # a short row: the missing cells are empty
        "e,   ,x,sad\n",  # a blank audio cell: refused
        encoding="utf-8",
    )
    a, b, c, d, e = read_manifest(manifest, source="s")
    assert a.audio.path == str(tmp_path / "clips" / "a b.wav") and a.raw == {"emotion": "happy"}
    assert b.audio.path == "/data/b.wav" and b.text is None and b.raw == {}
    assert c.audio.path == str(tmp_path / "home" / "c.wav")
    assert d.audio.path == str(tmp_path / "d.wav") and d.text is None and d.raw == {}
    assert isinstance(e, RejectedRow) and (e.id, e.reason) == ("s/e", "missing_audio")


def test_jsonl_manifest_with_bad_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [
        json.dumps({"id": "a", "audio": "a.wav", "text": "x", "speaking_rate": 7.5, "answers": ["A1"]}).encode(),
        b"{not json",
        b'"a string, not an object"',
        b'{"id": "b", "audio": "b.wav", "text": "caf\xe9"}',
        b"",
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_manifest(path, source="j"))
    assert items[0].raw == {"speaking_rate": "7.5"} and items[0].extra == {"answers": ["A1"]}
    assert [(i.reason, i.id) for i in items[1:]] == [("bad_row", "j/row2"), ("bad_row", "j/row3"), ("undecodable_text", "j/row4")]
    assert all(isinstance(i, RejectedRow) for i in items[1:])


def test_unknown_manifest_kind_and_empty_manifest(tmp_path):
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(CorpusError, match="csv, .tsv or .jsonl"):
        list(read_manifest(tmp_path / "m.txt", source="s"))
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(CorpusError, match="empty"):
        list(read_manifest(tmp_path / "e.csv", source="s"))


def _hf_dataset(tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    clips = [write_tone(tmp_path / "clips" / f"{i}.flac", seconds=0.4) for i in range(3)]
    # Built as plain columns and cast to Audio, as hub datasets store it; encoding through the Audio
    # feature itself would need torchcodec, which speechsift never uses.
    ds = datasets.Dataset.from_dict(
        {
            "audio": [{"bytes": p.read_bytes(), "path": p.name} for p in clips],
            "transcription": ["one", "two", "three"],
            "gender": ["male_masculine", "female_feminine", "other"],
            "major_emotion": ["sad", "happy", "surprised"],
        }
    ).cast_column("audio", datasets.Audio())
    return ds


def test_hf_save_to_disk_and_parquet_folder(tmp_path):
    ds = _hf_dataset(tmp_path)
    ds.save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "pq").mkdir()
    ds.to_parquet(str(tmp_path / "pq" / "train-0.parquet"))
    for location in (tmp_path / "saved", tmp_path / "pq"):
        clips = list(read_hf(source="hfd", path=location, language="en"))
        assert [c.text for c in clips] == ["one", "two", "three"]
        assert clips[0].audio.bytes is not None and clips[0].audio.bytes[:4] == b"fLaC"
        assert [c.raw["gender"] for c in clips] == ["male_masculine", "female_feminine", "other"]


def test_hf_source_runs_end_to_end_with_embedded_bytes(tmp_path):
    ds = _hf_dataset(tmp_path)
    ds.save_to_disk(str(tmp_path / "saved"))
    data = recipe_dict(tmp_path / "unused.csv", tmp_path / "out", ["transcription"])
    data["sources"] = [{"name": "hfd", "kind": "hf", "path": str(tmp_path / "saved"), "language": "en"}]
    result = run_recipe(parse_recipe(data), progress=False)
    assert result.totals.examples == {"transcription": 3}
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["unknown_labels"] == {"gender": {"other": 1}}
    # the JSONL exports need files: bytes-only clips are written once under OUT/audio, and referenced
    # relative to the export's folder
    folder = tmp_path / "out" / "exports" / "messages"
    record = json.loads(next(folder.rglob("*.jsonl")).read_text().splitlines()[0])
    assert (folder / record["audios"][0]).resolve().parent == (tmp_path / "out" / "audio").resolve()


def test_hf_missing_folder(tmp_path):
    pytest.importorskip("datasets")
    with pytest.raises(CorpusError, match="no such dataset"):
        list(read_hf(source="x", path=tmp_path / "nope"))


def test_corpus_factory_is_readable(tmp_path):
    manifest = make_corpus(tmp_path, n=2)
    assert len(list(read_manifest(manifest, source="s"))) == 2


def _ids(items):
    return [(item.id, item.reason) if isinstance(item, RejectedRow) else item.clip_id for item in items]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_a_huge_cell_is_a_reject_and_the_rest_goes_through(tmp_path, suffix):
    """A 1 MB cell stopped the whole run with a csv traceback; now that row alone is refused."""
    rows = [{"id": "a", "audio": "a.wav", "text": "fine"}, {"id": "b", "audio": "b.wav", "text": "x" * 2**20},
            {"id": "c", "audio": "c.wav", "text": "fine too"}]
    path = tmp_path / f"m{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        sep = "\t" if suffix == ".tsv" else ","
        path.write_text("id,audio,text\n".replace(",", sep) + "".join(sep.join(r.values()) + "\n" for r in rows))
    items = list(read_manifest(path, source="s"))
    assert _ids(items) == ["s/a", ("s/row2", "cell_too_large"), "s/c"]
    assert "column 'text' holds 1,048,576 characters" in items[1].message and str(path) in items[1].message


def test_a_row_the_csv_parser_gives_up_on_is_a_bad_row(tmp_path, monkeypatch):
    """Beyond the parser's own bound (a quote that never closes) csv raises; the row is refused and
    reading goes on with the next line."""
    import csv

    from speechsift.sources import manifest as manifest_module

    path = tmp_path / "m.csv"
    path.write_text("id,audio,text\na,a.wav,fine\nb,b.wav," + "y" * 5000 + "\nc,c.wav,fine\n")
    limit = csv.field_size_limit()
    monkeypatch.setattr(manifest_module, "_PARSE_LIMIT", 1000)
    try:
        csv.field_size_limit(1000)
        items = list(read_manifest(path, source="s"))
    finally:
        csv.field_size_limit(limit)
    assert _ids(items) == ["s/a", ("s/row2", "bad_row"), "s/c"]
    assert "field larger than field limit" in items[1].message


def test_semicolon_csv_with_upper_case_headers_in_latin_1(tmp_path, caplog):
    path = tmp_path / "m.csv"
    path.write_bytes("ID;Audio_Path;TEXT;Gender\nq1;a.wav;caf\u00e9 cr\u00e8me;F\n".encode("latin-1"))
    [clip] = read_manifest(path, source="s", encoding="latin-1")
    assert (clip.clip_id, clip.text, clip.raw, clip.audio.path) == ("s/q1", "caf\u00e9 cr\u00e8me", {"gender": "F"},
                                                                  str(tmp_path / "a.wav"))
    [refused] = read_manifest(path, source="s")  # read as UTF-8: the row is refused with the fix
    assert refused.reason == "undecodable_text" and "set `encoding:` on source 's'" in refused.message
    assert "not utf-8 text" in caplog.text and "encoding:" in caplog.text, "one warning names the option"


def test_delimiters_are_sniffed_from_the_header_and_can_be_given(tmp_path):
    import csv

    path = tmp_path / "m.csv"
    for sep in (",", ";", "\t", "|"):
        with path.open("w", newline="") as handle:
            csv.writer(handle, delimiter=sep).writerows([["id", "audio", "text"], ["a", "a.wav", "one, two; three"]])
        [clip] = read_manifest(path, source="s")
        assert clip.text == "one, two; three", sep
    path.write_text("id:audio\na:a.wav\n")
    [clip] = read_manifest(path, source="s", delimiter=":")
    assert clip.audio.path == str(tmp_path / "a.wav")


def test_column_names_match_in_any_case_and_exact_names_win(tmp_path):
    path = write_manifest(tmp_path / "m.csv", [{"Text": "upper", "text": "exact", " AUDIO ": "a.wav", "Words": "w"}])
    [clip] = read_manifest(path, source="s")
    assert clip.text == "exact" and clip.audio.path == str(tmp_path / "a.wav")
    [clip] = read_manifest(path, source="s", fields={"text": "WORDS"})
    assert clip.text == "w"


@pytest.mark.parametrize("content", [b"", b"id,audio,text\n", b"id,audio,text\n\n\n", b"\n\n"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_empty_and_header_only_manifests_fail_alike_when_opened(tmp_path, content, suffix):
    path = tmp_path / f"m{suffix}"
    path.write_bytes(content.replace(b",", b"\t") if suffix == ".tsv" else content)
    if suffix == ".jsonl" and content.startswith(b"id"):
        path.write_bytes(b"\n\n")
    with pytest.raises(CorpusError, match=r"holds no rows; add rows or remove the source"):
        read_manifest(path, source="s")  # raised when the source is opened, before any row is read


def test_unknown_encoding_is_a_recipe_error(tmp_path):
    data = recipe_dict(tmp_path / "m.csv", tmp_path / "out")
    data["sources"][0]["encoding"] = "latin-42"
    with pytest.raises(ConfigError, match="sources.0.manifest.encoding: unknown encoding 'latin-42'"):
        parse_recipe(data)
