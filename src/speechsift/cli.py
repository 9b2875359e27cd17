"""The ``speechsift`` command: parses arguments, builds a recipe, calls the engine. Nothing else."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from speechsift.engine.progress import console  # one stream (stderr) for progress, summary and warnings
from speechsift.errors import (ConfigError, CorpusError, ServerUnreachableError, SpeechsiftError, StorageError,
                               StrictModeError)
from speechsift.sources.base import RejectedRow

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Build instruction fine-tuning data for speech-text LLMs from speech corpora.",
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors.")) -> None:
    _state["debug"] = debug
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(message)s", handlers=[handler],
                        force=True)


def _fail(kind: str, message: str, code: int = 2) -> None:
    console.print(f"[bold red]{kind}:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _guarded(fn, *args, **kwargs):
    """Run ``fn``; known errors become one clear paragraph and a non-zero exit (tracebacks with --debug)."""
    if _state["debug"]:
        return fn(*args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except ConfigError as exc:
        _fail("configuration error", str(exc))
    except CorpusError as exc:
        _fail("input error", str(exc))
    except StorageError as exc:
        _fail("storage error", str(exc))
    except StrictModeError as exc:
        _fail("stopped", str(exc), code=1)
    except ServerUnreachableError as exc:
        _fail("server unreachable", str(exc), code=3)
    except SpeechsiftError as exc:
        _fail("error", str(exc), code=1)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished shards are kept; run the same command again to resume.")
        raise typer.Exit(130)


def print_summary(result) -> None:
    table = Table(title=f"speechsift: {result.out_dir}", show_lines=False)
    for column in ("stage", "in", "out", "rejected", "reasons"):
        table.add_column(column, justify="right" if column in ("in", "out", "rejected") else "left")
    stages = {**result.totals.stages, **(result.assembly.stages if result.assembly else {})}
    for name, stats in stages.items():
        rejected = sum(stats.rejected.values())
        reasons = ", ".join(f"{r} {n}" for r, n in stats.rejected.most_common(4))
        table.add_row(name, str(stats.inputs), str(stats.outputs), str(rejected), reasons)
    console.print(table)
    released = result.assembly.examples if result.assembly else {}
    examples = ", ".join(f"{t} {n}" if s == "train" else f"{t}/{s} {n}" for (t, s), n in sorted(released.items()))
    console.print(f"examples: {examples or 'none'}")
    if result.totals.unknown_labels:
        unknown = sum(result.totals.unknown_labels.values())
        console.print(f"labels outside the vocabularies: {unknown} (kept in raw; see run.json unknown_labels)")
    llm = result.llm_this_run
    if llm.get("requests"):
        failed = sum(v for k, v in llm.items() if k.startswith("failed."))
        console.print(
            f"llm: {llm.get('requests', 0):,} requests, {llm.get('sent', 0):,} sent, "
            f"{llm.get('ledger_hits', 0):,} from the ledger, {llm.get('dedup', 0):,} deduplicated, "
            f"{llm.get('retries', 0):,} retries, {failed:,} failed; "
            f"tokens {llm.get('tokens_in', 0):,} in / {llm.get('tokens_out', 0):,} out"
        )
    tts = result.tts_this_run
    if tts.get("requests"):
        failed = sum(v for k, v in tts.items() if k.startswith("failed."))
        console.print(
            f"tts: {tts.get('requests', 0):,} utterances, {tts.get('synthesized', 0):,} synthesized "
            f"({tts.get('audio_ms', 0) / 60_000:,.1f} min of audio), {tts.get('cache_hits', 0):,} from the cache, "
            f"{tts.get('deduplicated', 0):,} deduplicated, {tts.get('retries', 0):,} retries, {failed:,} failed"
        )
    mix = result.assembly.mix if result.assembly else {}
    if mix:
        console.print(f"mix: {mix.get('selected', 0):,} of {mix.get('size', 0):,} train examples"
                      + (f" ({mix['redistributed']:,} moved from strata below their share)" if mix.get("redistributed") else ""))
    console.print(
        f"shards: {result.shards} ({result.shards_skipped} reused from an earlier run) in {result.seconds:.1f}s; "
        f"inputs = outputs + rejects holds for every stage."
    )
    for warning in result.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


def _run(recipe_path: Path, out: Optional[str], limit: Optional[int], strict: bool, backend: Optional[str],
         model: Optional[str], api_base: Optional[str], progress: bool, cache: bool = True,
         bins: Optional[Path] = None, executor: Optional[str] = None, ray_address: Optional[str] = None) -> None:
    from speechsift.engine import run_recipe
    from speechsift.recipe import load_recipe

    overrides = {
        "output.dir": out,
        "llm.backend": backend,
        "llm.model": model,
        "llm.api_base": api_base,
        "labels.bins": str(bins.resolve()) if bins else None,
        "engine.executor": executor or ("ray" if ray_address else None),
        "engine.ray_address": ray_address,
    }
    recipe = load_recipe(recipe_path, overrides)
    result = run_recipe(recipe, limit=limit, strict=strict, progress=progress, cache=cache)
    print_summary(result)
    from speechsift.layout import OutputLayout

    read, refused = result.clips_refused()
    layout = OutputLayout(result.out_dir)
    check_clips_survived(read, refused, layout.storage.display(layout.rejects), f"run {recipe_path}")


@app.command()
def run(
    recipe: Path = typer.Argument(..., help="The recipe YAML file."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Output folder or object-store URI, s3://bucket/prefix "
                                      "(overrides output.dir)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N clips of the sources."),
    strict: bool = typer.Option(False, "--strict", help="Stop with an error at the first reject."),
    backend: Optional[str] = typer.Option(None, "--backend", help="LLM backend (overrides llm.backend)."),
    model: Optional[str] = typer.Option(None, "--model", help="LLM model name (overrides llm.model)."),
    api_base: Optional[str] = typer.Option(None, "--api-base", help="OpenAI-compatible base URL (overrides llm.api_base)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a live progress line."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the request ledger."),
    bins: Optional[Path] = typer.Option(None, "--bins", help="Bin edges JSON (from `speechsift features --fit-bins`)."),
    executor: Optional[str] = typer.Option(None, "--executor", help="Who runs the shards: local or ray "
                                           "(overrides engine.executor)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="The Ray cluster's head, host:port "
                                              "(overrides engine.ray_address; implies --executor ray)."),
) -> None:
    """Run a recipe: sources -> labels -> tasks -> responses -> training sets in OUT."""
    _guarded(_run, recipe, out, limit, strict, backend, model, api_base, progress, not no_cache, bins, executor,
             ray_address)


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), "-o", "--out", help="Output folder."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run the bundled demo recipe (about 30 synthetic clips, template backend, no LLM needed)."""
    from speechsift.demo import demo_recipe_path

    _guarded(_run, demo_recipe_path(), out, None, False, None, None, None, progress)


def _corpora(verbose: bool) -> None:
    from speechsift.sources.corpora import list_corpora

    table = Table(title="corpora (speechsift ingest CORPUS ROOT, or kind: corpus in a recipe)", show_lines=verbose)
    for column in ("corpus", "languages", "licence", "expected layout"):
        table.add_column(column, overflow="fold")
    if verbose:
        table.add_column("labels", overflow="fold")
    for info in list_corpora():
        row = [info.name, ", ".join(info.languages), info.licence, info.layout]
        if verbose:
            row.append("; ".join(f"{k}: {', '.join(v)}" for k, v in info.labels.items()))
        table.add_row(*row)
    Console().print(table)


@app.command()
def corpora(verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list each corpus's label codes.")) -> None:
    """List every supported corpus with its expected layout, labels and licence."""
    _guarded(_corpora, verbose)


def _parse_options(pairs: list[str]) -> dict[str, object]:
    import yaml

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r}: write options as KEY=VALUE (e.g. --option splits=[train,dev]).")
        options[key] = yaml.safe_load(value)
    return options


def check_clips_survived(read: int, rejected: Counter, rejects_path: Path, what: str) -> None:
    """CorpusError (exit 2) when no clip came through: none read, or every one rejected; the
    paragraph names the reasons and points at the rejects file."""
    if read and sum(rejected.values()) < read:
        return
    if not read:
        raise CorpusError(f"{what}: the sources hold no clips, so nothing was made; check their paths and contents.")
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in rejected.most_common(4))
    raise CorpusError(
        f"{what}: every one of the {read:,} clips was rejected ({reasons}), so nothing was made. Each clip's "
        f"reason and message are in {rejects_path}. The usual causes: audio paths that do not resolve (a "
        "manifest's relative paths are relative to the manifest's own folder), a wrong `fields` mapping, or "
        "clips outside engine.min_duration_s/max_duration_s."
    )


def _ingest(corpus: str, root: Path, out: Path, options: list[str], limit: Optional[int], progress: bool) -> None:
    import itertools
    import json

    from speechsift.engine.progress import ProgressReporter
    from speechsift.labels import with_labels
    from speechsift.layout import atomic_write_text
    from speechsift.sources.clips_io import ClipWriter
    from speechsift.sources.corpora import read_corpus
    from speechsift.sources.ids import unique_clips

    items = unique_clips(read_corpus(corpus, root, **_parse_options(options)))
    if limit is not None:
        items = itertools.islice(items, limit)
    rejects = []
    with ClipWriter(out) as writer, ProgressReporter(enabled=progress) as reporter:
        reporter.phase("listing", total=limit, unit="clips")
        for item in items:
            if isinstance(item, RejectedRow):
                rejects.append({"id": item.id, "stage": "read", "reason": item.reason, "message": item.message,
                                "source": item.source})
            else:
                writer.add(with_labels(item)[0])  # the labels normalized, as a run does
            reporter.advance(1)
    rejects_path = out.with_name(out.stem + ".rejects.jsonl")
    atomic_write_text(rejects_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    console.print(f"{writer.count:,} clips -> {out}; {len(rejects):,} rejects -> {rejects_path}")
    check_clips_survived(writer.count + len(rejects), Counter(r["reason"] for r in rejects), rejects_path,
                         f"ingest {corpus} {root}")


@app.command()
def ingest(
    corpus: str = typer.Argument(..., help="A corpus name (see `speechsift corpora`)."),
    root: Path = typer.Argument(..., help="The folder the corpus distribution unpacks to."),
    out: Path = typer.Option(Path("clips.parquet"), "-o", "--out", help="The clips Parquet file to write."),
    option: list[str] = typer.Option([], "--option", help="A reader option KEY=VALUE (repeatable)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N clips."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """List a corpus in its native layout as one row per clip (no audio is decoded)."""
    _guarded(_ingest, corpus, root, out, option, limit, progress)


def _curate(out: str, recipe: Optional[Path]) -> None:
    from speechsift.engine.release import recurate

    print_summary(recurate(out, recipe))


@app.command()
def curate(
    out: str = typer.Argument(..., help="A run's output folder (or its object-store URI, s3://bucket/prefix)."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", help="A recipe whose curate/splits/mix sections to apply "
                                          "(default: the one the output was made with)."),
) -> None:
    """Re-score and re-filter an existing output (complete/ and data/) without regenerating anything."""
    _guarded(_curate, out, recipe)


def _report(out: Path, samples: int, seed: int) -> None:
    from speechsift.report import build_report

    path = build_report(out, max_samples_per_task=samples, seed=seed)
    console.print(f"report: {path}")


@app.command()
def report(
    out: Path = typer.Argument(..., help="A run's output folder."),
    samples: int = typer.Option(50, "--samples", min=1, help="Examples per task in the sample browser."),
    seed: int = typer.Option(0, "--seed", help="Seed for choosing the samples."),
) -> None:
    """Build OUT/report/index.html: funnel, label and length distributions, plots, a sample browser."""
    _guarded(_report, out, samples, seed)


def _features(target: Path, out: Path, features: list[str], fit_bins: Optional[Path], workers: Optional[int],
              progress: bool) -> None:
    from speechsift.engine.featurize import featurize

    summary = featurize(target, out, features or None, fit_bins=fit_bins, workers=workers, progress=progress)
    console.print(summary)


@app.command()
def features(
    target: Path = typer.Argument(..., help="A manifest (CSV/TSV/JSONL), a clips Parquet from `ingest`, or a recipe."),
    out: Path = typer.Option(Path("features.parquet"), "-o", "--out", help="Parquet file: clip_id + one column per measurement."),
    feature: list[str] = typer.Option([], "--feature", "-f", help="duration, loudness, pitch, rate, snr, quality, "
                                      "quality_p835, reverb, distortion (default: all but the two quality ones, which "
                                      "need the quality extra)."),
    fit_bins: Optional[Path] = typer.Option(None, "--fit-bins", help="Also fit SIFT-50M bins on these clips and save them (JSON)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Processes (default: every core)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Measure every clip's audio (decoded once): duration, loudness, pitch, speaking rate, SNR, quality, C50, distortion."""
    _guarded(_features, target, out, feature, fit_bins, workers, progress)


annotations_app = typer.Typer(help="Listening annotation of preference pairs.", no_args_is_help=True)
app.add_typer(annotations_app, name="annotations")


def _annotations_import(out: Path, files: list[Path]) -> None:
    from speechsift.export.annotation import import_annotations

    path, count = import_annotations(out, files)
    console.print(f"{count:,} preference records -> {path}; DPO exports in {path.parent / 'exports'}")


@annotations_app.command("import")
def annotations_import(
    out: Path = typer.Argument(..., help="The run's output folder (its exports/annotation pages)."),
    files: list[Path] = typer.Argument(..., help="Results files saved by the annotation pages."),
) -> None:
    """Turn saved listening-annotation results into preference records and DPO exports."""
    _guarded(_annotations_import, out, files)


ledger_app = typer.Typer(help="Inspect request ledgers.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


def _ledger_stats(path: Path, as_json: bool) -> None:
    import json

    from speechsift.llm.ledger import Ledger

    if not path.is_file():
        raise ConfigError(f"{path}: no such ledger file (runs keep theirs at OUT/.work/ledger.sqlite).")
    with Ledger(path) as ledger:
        stats = ledger.stats()
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo(f"ledger {stats['path']}")
    typer.echo(f"  entries     {stats['entries']:,}")
    typer.echo(f"  hits        {stats['hits']:,}")
    typer.echo(f"  tokens in   {stats['tokens_in']:,}")
    typer.echo(f"  tokens out  {stats['tokens_out']:,}")
    for row in stats["by_model"]:
        typer.echo(f"  {row['backend']}/{row['model']}: {row['entries']:,} entries, {row['hits']:,} hits")


@ledger_app.command("stats")
def ledger_stats(
    path: Path = typer.Argument(..., help="A ledger file, e.g. OUT/.work/ledger.sqlite."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Entries, hits and tokens stored in a request ledger."""
    _guarded(_ledger_stats, path, as_json)


class _EvalGroup(typer.core.TyperGroup):
    """``speechsift eval DATA ...`` runs an evaluation; ``speechsift eval compare ...`` compares them."""

    def parse_args(self, ctx, args):  # noqa: ANN001 - click's signature
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(cls=_EvalGroup, no_args_is_help=True,
                       help="Score a speech LLM on a held-out set (speechsift eval DATA -o EVAL_OUT ...), "
                            "or compare runs (speechsift eval compare A B -o OUT).")
app.add_typer(eval_app, name="eval")


def _eval(data: Optional[Path], out: Optional[Path], recipe: Optional[Path], overrides: dict, progress: bool) -> None:
    from speechsift.eval import run_eval
    from speechsift.eval.cli_config import eval_config

    result = run_eval(eval_config(data, out, recipe, overrides), progress=progress)
    print_eval_summary(result)


def print_eval_summary(result) -> None:
    summary = result.summary
    table = Table(title=f"speechsift eval: {result.out_dir}")
    for column in ("task", "items", "failed", "metric", "value", "95% interval", "n"):
        table.add_column(column, justify="right" if column in ("items", "failed", "value", "n") else "left")
    for task, entry in summary["tasks"].items():
        first = True
        for metric, value in entry["metrics"].items():
            if "." in metric:
                continue
            ci = value["ci95"]
            table.add_row(task if first else "", str(entry["n"]) if first else "", str(entry["failed"]) if first else "",
                          metric, "–" if value["value"] is None else f"{value['value']:.4g}",
                          "–" if not ci else f"{ci[0]:.3g} – {ci[1]:.3g}", str(value["n"]))
            first = False
        if first:
            table.add_row(task, str(entry["n"]), str(entry["failed"]), "(none)", "–", "–", "0")
    console.print(table)
    if "speech_ifeval" in summary:
        block = summary["speech_ifeval"]
        line = f"Speech-IFEval IF rate {block['if_rate']['value']}"
        if "forgetting" in block:
            line += f", text backbone {block['if_rate_text']['value']}, forgetting {block['forgetting']['value']}%"
        console.print(line)
    failures = ", ".join(f"{r} {n}" for r, n in summary["failures"].items())
    console.print(f"items: {summary['items']:,} = {summary['answered']:,} answered + {summary['failed']:,} failed"
                  + (f" ({failures})" if failures else "") + f"; {result.seconds:.1f}s")
    for note in summary["notes"]:
        console.print(f"[yellow]note[/]: {note}")
    console.print(f"summary: {result.out_dir / 'summary.json'}; predictions: {result.out_dir / 'predictions.parquet'}")


@eval_app.command("run")
def eval_run(
    data: Optional[Path] = typer.Argument(None, help="A speechsift output folder, a SIFT JSONL tree (EvalSIFT layout) "
                                          "or a Speech-IFEval JSONL file."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="EVAL_OUT (default: DATA-eval)."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", help="A YAML file with an `eval:` section (flags win)."),
    api_base: Optional[str] = typer.Option(None, "--api-base", help="The model's OpenAI-compatible base URL."),
    model: Optional[str] = typer.Option(None, "--model", help="The model's name (or local folder for transformers/vllm)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="openai (default), transformers or vllm."),
    judge_api_base: Optional[str] = typer.Option(None, "--judge-api-base", help="The judge's base URL."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="The judge model (turns judging on)."),
    text_api_base: Optional[str] = typer.Option(None, "--text-api-base", help="Speech-IFEval forgetting: the text "
                                                "backbone's base URL."),
    text_model: Optional[str] = typer.Option(None, "--text-model", help="The text backbone (turns forgetting on)."),
    speech_api_base: Optional[str] = typer.Option(None, "--speech-api-base", help="Controllable items: the base URL "
                                                  "of a model that returns audio (default: --api-base)."),
    speech_model: Optional[str] = typer.Option(None, "--speech-model", help="Controllable items: its model name."),
    audio_output: Optional[str] = typer.Option(None, "--audio-output", help="speech (/v1/audio/speech) or chat "
                                               "(chat completions with audio output)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Only these tasks, comma-separated."),
    split: Optional[str] = typer.Option(None, "--split", help="The split to score (default: eval)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N items."),
    bins: Optional[Path] = typer.Option(None, "--bins", help="Bins JSON for controllable items (default: the dataset's)."),
    audio_root: Optional[Path] = typer.Option(None, "--audio-root", help="Speech-IFEval: the folder audio_filepath is "
                                              "relative to (default: the file's folder)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="Requests in flight to the model."),
    bootstrap: Optional[int] = typer.Option(None, "--bootstrap", min=0, help="Bootstrap resamples (default 1000)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the request ledger."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip EVAL_OUT/report/index.html."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show live progress."),
) -> None:
    """Score a model on DATA: predictions.parquet, summary.json and report/ in EVAL_OUT."""
    overrides = {
        "model.api_base": api_base, "model.model": model, "model.backend": backend,
        "model.concurrency": concurrency,
        "judge.api_base": judge_api_base, "judge.model": judge_model,
        "text_model.api_base": text_api_base, "text_model.model": text_model,
        "controllable.api_base": speech_api_base, "controllable.model": speech_model, "controllable.mode": audio_output,
        "tasks": [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None,
        "split": split, "limit": limit, "bins": str(bins.resolve()) if bins else None,
        "audio_root": str(audio_root.resolve()) if audio_root else None,
        "bootstrap_samples": bootstrap, "cache": False if no_cache else None, "report": False if no_report else None,
    }
    _guarded(_eval, data, out, recipe, overrides, progress)


def _eval_compare(runs: list[Path], out: Path, bootstrap: int) -> None:
    from speechsift.eval.compare import compare_runs

    path = compare_runs(runs, out, samples=bootstrap)
    console.print(f"compare: {path}")


@eval_app.command("compare")
def eval_compare(
    runs: list[Path] = typer.Argument(..., help="Two or more EVAL_OUT folders of `speechsift eval`."),
    out: Path = typer.Option(..., "-o", "--out", help="COMPARE_OUT: compare.json and index.html."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Paired bootstrap resamples."),
) -> None:
    """Several models in one page: metrics side by side, per-item wins/ties/losses, paired bootstrap."""
    _guarded(_eval_compare, runs, out, bootstrap)


def entrypoint() -> None:
    app(prog_name="speechsift")


if __name__ == "__main__":
    sys.exit(entrypoint())
