"""``OUT/README.md``: a dataset card with YAML front matter, one config per task."""

from __future__ import annotations

from typing import Any

import yaml

from speechsift.engine.assemble import Assembly
from speechsift.engine.counts import RunTotals

SPLIT_ORDER = ["train", "dev", "eval"]
ALL_TASKS = "all"  # the card's default config: every task

# Hub task categories for each of our tasks, for the card's front matter.
TASK_CATEGORIES = {
    "transcription": "automatic-speech-recognition",
    "answer_extraction": "question-answering",
    "sift_s": "audio-text-to-text",
    "sift_ssp": "audio-text-to-text",
    "sit_ssp": "audio-text-to-text",
}


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def data_files(splits: list[str]) -> list[dict[str, str]]:
    """The card's ``data_files`` of the given splits (every task of a split is in one set of files)."""
    return [{"split": split, "path": f"data/{split}-*.parquet"} for split in splits]


def front_matter(name: str, license: str, assembly: Assembly) -> dict[str, Any]:
    """One config with every task (the default), then one per task: the same files, read with a
    filter on the ``task`` column (``datasets`` passes ``filters`` to its Parquet reader)."""
    by_task = assembly.by_task()
    tasks = sorted(t for t, n in by_task.items() if n)
    splits = sorted({split for (_t, split), n in assembly.examples.items() if n}, key=SPLIT_ORDER.index)
    configs: list[dict[str, Any]] = [{"config_name": ALL_TASKS, "default": True, "data_files": data_files(splits)}]
    for task in tasks:
        mine = sorted({split for (t, split), n in assembly.examples.items() if t == task and n}, key=SPLIT_ORDER.index)
        configs.append({"config_name": task, "data_files": data_files(mine), "filters": [["task", "==", task]]})
    return {
        "license": license,
        "language": sorted(assembly.languages),
        "pretty_name": name,
        "size_categories": [size_category(sum(by_task.values()))],
        "task_categories": sorted({TASK_CATEGORIES.get(t, "audio-text-to-text") for t in tasks}),
        "tags": ["speech", "instruction-tuning", "speechsift"],
        "configs": configs,
    }


def _written_by(setting: dict[str, Any]) -> str:
    backend, model = setting.get("backend"), setting.get("model")
    if backend == "direct":
        return "taken from the corpus"
    if backend == "template" and not model:
        return "templates over the labels"
    text = f"`{backend}`" + (f" `{model}`" if model else "")
    if setting.get("max_tokens") is not None:
        text += (f", temperature {setting.get('temperature')}, top_p {setting.get('top_p')}, "
                 f"max_tokens {setting.get('max_tokens')}")
    return text


def sampling_lines(assembly: Assembly) -> list[str]:
    """One line per task: who wrote its responses and how they sampled (tasks set their own
    max_tokens, so one recipe-wide line would be wrong)."""
    return [f"- {task}: " + "; ".join(_written_by(s) for s in settings)
            for task, settings in sorted(assembly.sampling.items())]


def loading_snippet(out: str, task: str) -> str:
    """Python that loads a task's train split from Parquet and reads its audio with soundfile
    (never ``datasets``' decoder, which needs torchcodec); the README shows the same code."""
    return f"""import io, os
import soundfile as sf
from datasets import Audio, load_dataset

out, task = "{out}", "{task}"
# every task of a split is in data/<split>-part-*.parquet; `filters` keeps one (datasets >= 3.2)
ds = load_dataset("parquet", data_files=f"{{out}}/data/train-*.parquet", split="train", filters=[("task", "==", task)])
# `audios`: one Audio per clip the example uses (two for a comparison)
ds = ds.cast_column("audios", [Audio(decode=False)])
cells = ds[0]["audios"]
# embedded bytes, or (output.audio: path) a path relative to OUT
waves = [sf.read(io.BytesIO(c["bytes"]) if c["bytes"] is not None else os.path.join(out, c["path"])) for c in cells]"""


def export_lines(recipe: Any, assembly: Assembly) -> list[str]:
    """The card's section on the JSONL exports: rows, rows left out and why, how paths resolve."""
    from speechsift.export import EXPORTERS

    if not assembly.exports:
        return []
    lines = ["", "## Exports", "", "| export | read by | rows | left out |", "|---|---|---|---|"]
    notes = []
    for name, counts in assembly.exports.items():
        export = EXPORTERS[name]
        by_reason: dict[str, list[str]] = {}
        for (task, reason), n in sorted(counts.left_out.items()):
            by_reason.setdefault(reason, []).append(f"{n} `{task}`")
        left_out = "; ".join(f"{', '.join(tasks)} (`{reason}`)" for reason, tasks in by_reason.items())
        lines.append(f"| `exports/{name}/` | {export.trainers} | {sum(counts.rows.values())} | {left_out or 'none'} |")
        notes += [f"- `exports/{name}/`, `{reason}`: {export.reasons[reason]}." for reason in by_reason]
    lines += ["", *notes] if notes else []
    lines += [
        "",
        "Audio files inside this folder are referenced relative to each export's folder: LLaMA-Factory "
        "`--dataset_dir exports/messages` (its `media_dir` defaults to it), ms-swift "
        "`--custom_dataset_info exports/messages/swift_dataset_info.json` with `ROOT_IMAGE_DIR=exports/messages`, "
        "DeSTA2.5 `data_root: exports/desta_jsonl`."
        + ("" if recipe.output.copy_audio else
           " Audio of the source corpora is referenced by absolute path; `output.copy_audio: true` puts it "
           "here too, for a self-contained release."),
    ]
    return lines


def speech_lines(recipe: Any, totals: RunTotals) -> list[str]:
    """The card's speech-synthesis section: backend, voices, utterances, where spoken responses are."""
    if not totals.tts.get("requests"):
        return []
    from speechsift.engine.speech import tts_config

    config = tts_config(recipe)
    voices = ", ".join(f"`{v.name or v.voice or v.package or v.model}`" for v in config.voices) or "the default pool"
    tts = totals.tts
    lines = ["", "## Speech synthesis", "",
             f"- backend: `{config.backend}`" + (f", model: `{config.model}`" if config.model else "") + f"; voices: {voices}",
             f"- utterances: {tts.get('synthesized', 0)} synthesized ({tts.get('audio_ms', 0) / 3_600_000:.2f} h), "
             f"{tts.get('cache_hits', 0)} from the cache, "
             f"{sum(n for k, n in tts.items() if k.startswith('failed.'))} failed",
             "- synthesized clips carry the voice's labels (`label_sources`: `synthesized`) and speaker `tts/<voice>`"]
    asked = [spec.name for spec in recipe.task_specs if spec.speak_instruction]
    if asked:
        lines.append(f"- spoken instructions ({', '.join(asked)}): the user turn is audio in every format (its "
                     "text is the example's `instruction` and `transcript`), speaker `tts/<voice>`")
    spoken = [spec.name for spec in recipe.task_specs if spec.speak_response]
    if spoken:
        lines.append(f"- spoken responses ({', '.join(spoken)}): an audio part after the assistant's text in "
                     "`data/` (Parquet) and `sift_jsonl`; the `messages` export (LLaMA-Factory, ms-swift) has no "
                     "place for assistant audio and keeps their text only")
    if "preference_pairs" in spoken:
        lines.append("- a preference pair's rejected response is spoken in the chosen one's voice: "
                     "`extra.rejected_audio` is its index in `audios`, `rejected_audio` its path in the DPO exports")
    return lines


def render_card(recipe: Any, totals: RunTotals, assembly: Assembly, backend: str, model: str | None) -> str:
    meta = front_matter(recipe.name, recipe.license, assembly)
    lines = ["---", yaml.safe_dump(meta, sort_keys=False).rstrip(), "---", "", f"# {recipe.name}", ""]
    if recipe.description:
        lines += [recipe.description.strip(), ""]
    if assembly.warnings:
        lines += ["## Warnings", "", *[f"- {warning}" for warning in assembly.warnings], ""]
    splits = sorted({split for _task, split in assembly.examples}, key=SPLIT_ORDER.index)
    lines += [
        "Instruction-tuning data for speech-text LLMs, made with "
        "[speechsift](https://pypi.org/project/speechsift/).",
        "",
        "## Tasks",
        "",
        "| task | " + " | ".join(splits) + " |",
        "|---|" + "---|" * len(splits),
        *[
            f"| {task} | " + " | ".join(str(assembly.examples.get((task, split), 0)) for split in splits) + " |"
            for task in sorted(assembly.by_task())
        ],
        "",
        "## Generation",
        "",
        f"- backend: `{backend}`" + (f", model: `{model}`" if model else " (no model: text from templates over the labels)"),
        *sampling_lines(assembly),
        "",
        "## Rejected",
        "",
        "| stage | reason | count |",
        "|---|---|---|",
    ]
    for stage, stats in {**totals.stages, **assembly.stages}.items():
        for reason, count in sorted(stats.rejected.items()):
            lines.append(f"| {stage} | {reason} | {count} |")
    lines += speech_lines(recipe, totals)
    curate_stats = assembly.stages.get("curate")
    if recipe.curate is not None and curate_stats is not None:
        settings = recipe.curate.model_dump(exclude_defaults=True)
        lines += [
            "",
            "## Curation",
            "",
            f"{curate_stats.inputs} examples scored, {curate_stats.outputs} kept. Filters: "
            + (", ".join(f"`{k}: {v}`" for k, v in settings.items()) or "the defaults") + ".",
            "`complete/` holds every example with its `quality` scores, `kept` (in `data/`), `drop_stage` and `drop_reason`.",
            "",
            "| filter reason | dropped |",
            "|---|---|",
            *[f"| {reason} | {count} |" for reason, count in sorted(curate_stats.rejected.items())],
        ]
    if recipe.output.report:
        from speechsift.report.build import CARD_PLOTS, CARD_PLOTS_DIR

        lines += ["", "## Plots", ""]
        lines += [f"![{title}](report/{CARD_PLOTS_DIR}/{name})" for name, title in CARD_PLOTS.items()]
        lines += ["", "More plots, label distributions and a sample browser with audio: "
                  "[report/index.html](report/index.html)."]
    trained = sorted(task for (task, split), n in assembly.examples.items() if split == "train" and n)
    first = (trained or ["<task>"])[0]
    lines += [
        "",
        "Every rejected clip or example is listed with its reason in `rejects.jsonl`; counts per stage "
        "are in `run.json`.",
        *export_lines(recipe, assembly),
        "",
        "## Loading",
        "",
        f"Each split's files hold every task, sorted by clip (a clip's audio is stored once); the config "
        f"`{ALL_TASKS}` loads them all, and a config per task (`{first}`, ...) loads one: "
        f'`load_dataset(REPO, "{first}")`. From this folder:',
        "",
        "```python",
        loading_snippet(".", first),
        "```",
        "",
    ]
    return "\n".join(lines)
