"""Listening annotation of preference pairs (Speechworthy's SpeechPref collection, REFERENCE.md §4):
static HTML pages, one per batch of pairs, and the import of what annotators saved.

``output.formats: [..., annotation]`` writes ``exports/annotation/<split>/batch-00000.html``. Each
page opens from disk with no server and no network: per pair, the request (an audio player when
speech synthesis voiced it, its text behind "show text" then; the text otherwise) and two responses
in a seeded random order (the judge's choice is not shown), a forced choice, a margin (1 slightly,
2 clearly, 3 much better) and a short explanation. "Save results" downloads
``annotations-<split>-<batch>.json`` once every pair is answered:
``{"format": "speechsift-annotations/1", "batch", "annotator", "saved_at", "results": [{"pair_id",
"instruction", "preferred": {"config", "text", "audio"}, "other": {...}, "margin", "explanation"}]}``.

``speechsift annotations import OUT RESULTS.json...`` checks each file against the pages' pairs
(``exports/annotation/pairs.jsonl``) and writes them as preference records (judge
``human:<annotator>``) to ``OUT/annotations/``, with the DPO exports of those records (and the
audio of the request and both responses where the pages played it).
"""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError
from speechsift.export.audio_files import AudioPaths
from speechsift.export.base import Exporter, register_exporter
from speechsift.export.dpo import is_preference, pair_fields, prompt_audios
from speechsift.layout import OutputLayout
from speechsift.records import AudioRef, Example, Message, Part
from speechsift.storage import OutPath
from speechsift.tasks.pairing import seeded_rng

RESULTS_FORMAT = "speechsift-annotations/1"
BATCH_SIZE = 25  # pairs per page: about half an hour of listening
PAIRS_FILE = "pairs.jsonl"


def _relative(path: str | None, page_dir: OutPath) -> str | None:
    return os.path.relpath(path, page_dir) if path else None


def absolute_paths(layout: OutputLayout) -> Callable[[AudioRef], str]:
    """Each audio's file as an absolute path (pages make them relative to themselves)."""
    paths = AudioPaths(layout)
    return lambda ref: str(paths.file(ref))


def pair_entry(example: Example, layout: OutputLayout) -> dict[str, Any]:
    """What a page shows of one preference example: no hint of which response the judge chose."""
    extra = example.extra
    path_of = absolute_paths(layout)
    record = pair_fields(example, path_of)  # the prompt's and both responses' audio paths, where voiced
    sides = [
        {"config": extra.get("chosen_config"), "text": example.response, "audio": record.get("chosen_audio")},
        {"config": extra.get("rejected_config"), "text": extra["rejected"], "audio": record.get("rejected_audio")},
    ]
    if seeded_rng("annotation", example.id).random() < 0.5:
        sides.reverse()
    return {
        "pair_id": example.id,
        "split": example.split,
        "instruction": example.instruction,
        "instruction_audio": next((path_of(ref) for ref in prompt_audios(example)), None),
        "responses": sides,
    }


@register_exporter
class AnnotationExport(Exporter):
    """The released preference pairs as listening pages, written once every part is in."""

    name = "annotation"

    def __init__(self, recipe: Any = None) -> None:
        super().__init__(recipe)
        self.preferences: list[Example] = []

    def write_part(self, examples: list[Example], layout: OutputLayout, shard: int,
                   audio: AudioPaths) -> list[OutPath]:
        self.preferences += [e for e in examples if is_preference(e)]
        return []

    def merge(self, other: Exporter) -> None:
        self.preferences += other.preferences  # type: ignore[attr-defined]

    def close(self, layout: OutputLayout, assembly: Any) -> list[OutPath]:
        return write_annotation_pages(layout, self.recipe.name, self.preferences)


def write_annotation_pages(layout: OutputLayout, title: str, preferences: list[Example],
                           batch_size: int = BATCH_SIZE) -> list[OutPath]:
    """One page per batch of the released preference pairs, per split, and ``pairs.jsonl``."""
    root = layout.exports / "annotation"
    storage = layout.storage
    for stale in storage.files(root, ".html"):  # pages of an earlier, larger release
        if stale.name.startswith("batch-"):
            storage.delete(stale)
    by_split: dict[str, list[Example]] = defaultdict(list)
    for example in sorted(preferences, key=lambda e: e.id):
        by_split[example.split].append(example)
    written: list[OutPath] = []
    lines = []
    for split, group in sorted(by_split.items()):
        for start in range(0, len(group), batch_size):
            batch = f"{split}-{start // batch_size:05d}"
            page = root / split / f"batch-{start // batch_size:05d}.html"
            entries = [pair_entry(e, layout) for e in group[start:start + batch_size]]
            lines += [json.dumps({**entry, "batch": batch}, ensure_ascii=False) for entry in entries]
            shown = [{**e, "instruction_audio": _relative(e["instruction_audio"], page.parent),
                      "responses": [{**r, "audio": _relative(r["audio"], page.parent)} for r in e["responses"]]}
                     for e in entries]
            storage.write_text(page, render_page(title, batch, shown))
            written.append(page)
    storage.write_text(root / PAIRS_FILE, "".join(line + "\n" for line in lines))
    return [*written, root / PAIRS_FILE]


def render_page(title: str, batch: str, entries: list[dict[str, Any]]) -> str:
    data = json.dumps({"batch": batch, "format": RESULTS_FORMAT, "pairs": entries}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # no "</script>" inside the script element
    return _PAGE.replace("__TITLE__", html.escape(f"{title}: listening annotation, batch {batch}")) \
        .replace("__DATA__", data)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5rem auto;padding:0 1rem;color:#222}
.pair{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}
.pair.done{border-color:#2a7}
.responses{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.response{background:#f6f6f6;border-radius:6px;padding:.6rem}
.text{white-space:pre-wrap}
fieldset{border:none;margin:.4rem 0;padding:0}
textarea{width:100%;min-height:3rem}
#status{font-weight:bold}
</style></head><body>
<h1>__TITLE__</h1>
<p>Listen to each request and to both responses, as a voice assistant would say them. Choose the response that is
better <em>to listen to</em>: conversational, relevant, understandable in one listen, concise, complete and safe.
Then say by how much, and why, in a sentence.</p>
<p><label>Your name or annotator id: <input id="annotator" autocomplete="off"></label></p>
<div id="pairs"></div>
<p><button id="save" type="button">Save results</button> <span id="status"></span></p>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const answers = {};
const container = document.getElementById("pairs");
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}
function media(src, text, label) {
  const box = el("div", {});
  if (src) {
    box.append(el("audio", {controls: "", preload: "none", src: src}));
    const details = el("details", {}, el("summary", {}, "show text"), el("div", {class: "text"}, text));
    box.append(details);
  } else {
    box.append(el("div", {class: "text"}, text));
  }
  return box;
}
function update() {
  const done = DATA.pairs.filter(p => answers[p.pair_id] && answers[p.pair_id].preferred !== undefined
                                      && answers[p.pair_id].margin !== undefined).length;
  document.getElementById("status").textContent = done + " of " + DATA.pairs.length + " answered";
  for (const p of DATA.pairs) {
    const a = answers[p.pair_id];
    document.getElementById("pair-" + p.pair_id).classList.toggle("done", !!a && a.preferred !== undefined && a.margin !== undefined);
  }
  return done;
}
DATA.pairs.forEach((p, n) => {
  answers[p.pair_id] = {explanation: ""};
  const box = el("section", {class: "pair", id: "pair-" + p.pair_id});
  box.append(el("h2", {}, "Pair " + (n + 1)));
  box.append(el("h3", {}, "Request"), media(p.instruction_audio, p.instruction));
  const grid = el("div", {class: "responses"});
  p.responses.forEach((r, k) => {
    const choice = el("input", {type: "radio", name: "choice-" + p.pair_id, value: String(k), id: "choice-" + p.pair_id + "-" + k});
    choice.addEventListener("change", () => { answers[p.pair_id].preferred = k; update(); });
    grid.append(el("div", {class: "response"}, el("h3", {}, "Response " + (k + 1)), media(r.audio, r.text),
                   el("label", {for: choice.id}, choice, " prefer response " + (k + 1))));
  });
  box.append(grid);
  const margin = el("fieldset", {}, el("legend", {}, "By how much?"));
  [[1, "slightly better"], [2, "clearly better"], [3, "much better"]].forEach(([value, label]) => {
    const input = el("input", {type: "radio", name: "margin-" + p.pair_id, value: String(value), id: "margin-" + p.pair_id + "-" + value});
    input.addEventListener("change", () => { answers[p.pair_id].margin = value; update(); });
    margin.append(el("label", {for: input.id}, input, " " + label + " "));
  });
  box.append(margin);
  const why = el("textarea", {id: "why-" + p.pair_id, placeholder: "Why, in a sentence"});
  why.addEventListener("input", () => { answers[p.pair_id].explanation = why.value; });
  box.append(el("label", {}, "Explanation", why));
  container.append(box);
});
update();
document.getElementById("save").addEventListener("click", () => {
  const annotator = document.getElementById("annotator").value.trim();
  const missing = DATA.pairs.length - update();
  const status = document.getElementById("status");
  if (!annotator) { status.textContent = "Enter your name or annotator id first."; return; }
  if (missing) { status.textContent = missing + " pair(s) still need a choice and a margin."; return; }
  const results = DATA.pairs.map(p => {
    const a = answers[p.pair_id];
    return {pair_id: p.pair_id, instruction: p.instruction, preferred: p.responses[a.preferred],
            other: p.responses[1 - a.preferred], margin: a.margin, explanation: a.explanation.trim()};
  });
  const blob = new Blob([JSON.stringify({format: DATA.format, batch: DATA.batch, annotator: annotator,
                                         saved_at: new Date().toISOString(), results: results}, null, 1)],
                        {type: "application/json"});
  const link = el("a", {href: URL.createObjectURL(blob), download: "annotations-" + DATA.batch + ".json"});
  document.body.append(link);
  link.click();
  link.remove();
  status.textContent = "Saved " + results.length + " results.";
});
</script></body></html>
"""


# --- import ---------------------------------------------------------------------------------------


def read_results(path: Path, pairs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One saved results file, checked against the pages' pairs; ``ConfigError`` naming the file
    and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a results file saved by an annotation page ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT or not isinstance(data.get("results"), list):
        raise ConfigError(f"{path}: not a results file saved by an annotation page (format {RESULTS_FORMAT}).")
    annotator = str(data.get("annotator") or "").strip()
    if not annotator:
        raise ConfigError(f"{path}: the file names no annotator; save it again from the page.")
    records = []
    for number, result in enumerate(data["results"], 1):
        pair = pairs.get(str(result.get("pair_id")))
        where = f"{path}: result {number}"
        if pair is None:
            raise ConfigError(f"{where}: pair {result.get('pair_id')!r} is not on this output's annotation pages; "
                              "import the file into the output its page came from.")
        texts = {r["text"] for r in pair["responses"]}
        preferred, other = result.get("preferred") or {}, result.get("other") or {}
        if preferred.get("text") not in texts or other.get("text") not in texts or preferred == other:
            raise ConfigError(f"{where}: the responses do not match pair {pair['pair_id']}; the file was edited.")
        if result.get("margin") not in (1, 2, 3):
            raise ConfigError(f"{where}: margin {result.get('margin')!r} is not 1, 2 or 3.")
        records.append({"pair": pair, "annotator": annotator, "preferred": preferred, "other": other,
                        "margin": result["margin"], "explanation": str(result.get("explanation") or "").strip(),
                        "batch": data.get("batch")})
    return records


def imported_example(example_id: str, row: dict[str, Any]) -> Example:
    """An imported preference (a ``preferences.jsonl`` row) as the run's examples hold one: the
    request as audio where it was voiced, the chosen response's audio after its text, the rejected
    one's at ``extra.rejected_audio`` (``engine.speech``), so the DPO exports carry them alike."""
    extra = {k: row[k] for k in ("rejected", "chosen_config", "rejected_config", "margin", "explanation", "judge")}
    audios: list[AudioRef] = []
    transcripts: list[str | None] = []

    def audio_part(path: str, text: str) -> Part:
        audios.append(AudioRef(path))
        transcripts.append(text)
        return Part.of_audio(len(audios) - 1)

    prompt, chosen, rejected = row.get("prompt_audio"), row.get("chosen_audio"), row.get("rejected_audio")
    user = [audio_part(prompt, row["instruction"])] if prompt else [Part.of_text(row["instruction"])]
    reply = [Part.of_text(row["chosen"]), *([audio_part(chosen, row["chosen"])] if chosen else [])]
    if rejected:
        extra["rejected_audio"] = len(audios)
        audio_part(rejected, row["rejected"])
    return Example(id=example_id, task="preference_pairs", clip_ids=[row["pair_id"]], audios=audios,
                   instruction=row["instruction"], response=row["chosen"],
                   messages=[Message("user", user), Message("assistant", reply)], source="annotation",
                   language=None, transcript=row["instruction"] if prompt else None, split=row["split"],
                   extra=extra, transcripts=transcripts)


def import_annotations(out: Path, files: list[Path]) -> tuple[Path, int]:
    """Preference records from saved results files: ``OUT/annotations/preferences.jsonl`` and the
    DPO exports (``OUT/annotations/exports/dpo_*``). Returns the records file and their count."""
    from speechsift.export.dpo import DPO_EXPORTS, LlamaFactoryDpoExport, write_llamafactory_info
    from speechsift.records import stable_id

    layout = OutputLayout(Path(out))
    pairs_path = layout.exports / "annotation" / PAIRS_FILE
    if not pairs_path.is_file():
        raise ConfigError(f"{pairs_path}: no annotation pages in {out}; run the recipe with "
                          "`output.formats: [..., annotation]` first.")
    pairs = {p["pair_id"]: p for p in map(json.loads, pairs_path.read_text(encoding="utf-8").splitlines())}
    records = [r for path in files for r in read_results(Path(path), pairs)]
    examples, lines = [], []
    for record in records:
        pair, judge = record["pair"], f"human:{record['annotator']}"
        sides = {r["text"]: r for r in pair["responses"]}  # the pages' own record of each response
        chosen, rejected = sides[record["preferred"]["text"]], sides[record["other"]["text"]]
        row = {"instruction": pair["instruction"], "chosen": chosen["text"], "rejected": rejected["text"],
               "chosen_config": chosen.get("config"), "rejected_config": rejected.get("config"),
               "margin": record["margin"], "explanation": record["explanation"], "judge": judge,
               "pair_id": pair["pair_id"], "split": pair["split"], "batch": record["batch"]}
        spoken = {"prompt_audio": pair.get("instruction_audio"), "chosen_audio": chosen.get("audio"),
                  "rejected_audio": rejected.get("audio")}  # where the page played them
        row.update({key: path for key, path in spoken.items() if path})
        lines.append(json.dumps(row, ensure_ascii=False))
        examples.append(imported_example(stable_id("annotation", pair["pair_id"], judge), row))
    target = layout.root / "annotations"
    layout.storage.write_text(target / "preferences.jsonl", "".join(line + "\n" for line in lines))
    exports = OutputLayout(target)
    for export in DPO_EXPORTS:
        export().write_part(examples, exports, 0, AudioPaths(exports))
    write_llamafactory_info(exports, exports.exports / LlamaFactoryDpoExport.name, sorted({e.split for e in examples}),
                            "annotations")
    return target / "preferences.jsonl", len(records)


__all__ = ["import_annotations", "render_page", "write_annotation_pages"]
