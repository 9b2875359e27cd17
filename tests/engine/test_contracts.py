"""The engine's parts on their own, as an executor uses them (issue 13), not through ``run_recipe``:

- a stage: one ``process`` over a batch of one record type; it never changes the batch it is given,
  and what the base counts adds up (``inputs = outputs + rejects``) for every stage of the chain;
- the shard protocol every executor drives (``prepare_shard``, ``advance``): answers from anywhere
  (here the backend called directly, no generation service) make the shard's examples;
- the generation service: answers in request order, identical requests sent once, answers kept in
  the ledger and taken from it by a later service, failures never kept (a real HTTP server on
  127.0.0.1 stands for an OpenAI-compatible LLM server);
- the assemble pass over example parts written by hand: the release read back with ``datasets``;
- the executor base's interface: an executor that finishes its shards last to first (as a cluster
  may) makes the same release as the local executor.
"""

from __future__ import annotations

import copy
import io
import json

import pyarrow.parquet as pq
import pytest
from factories import make_corpus, recipe_dict
from servers import ChatServer, scripted_reply

from speechsift.engine.assemble import assemble
from speechsift.engine.counts import ShardLog
from speechsift.engine.executor import Executor, advance, make_executor, prepare_shard
from speechsift.engine.generation import Answer, GenerationService
from speechsift.engine.plan import Plan, build_stages
from speechsift.engine.stage import RecordStage, Rejected, StageResult
from speechsift.errors import Reject
from speechsift.layout import OutputLayout
from speechsift.llm.base import generate, make_backend
from speechsift.llm.ledger import Ledger
from speechsift.llm.router import make_recipe_backend
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.recipe import LLMConfig, parse_recipe
from speechsift.records import Clip, Example, examples_to_arrow

TASKS = ["transcription", "sit_ssp", "closed_ended_template"]


def _recipe(tmp_path, **sections):
    manifest = make_corpus(tmp_path / "corpus", n=6)
    rows = manifest.read_text().splitlines()
    # two rows a user's manifest really holds: an audio file that is not there, a row with no audio
    rows += ["gone,clips/gone.flac,A missing file.,spk9,male,,happy,,", "empty,,No audio.,spk9,male,,happy,,"]
    manifest.write_text("\n".join(rows) + "\n")
    return parse_recipe(recipe_dict(manifest, tmp_path / "out", TASKS, features=["duration", "loudness"], **sections))


def _plan(recipe):
    layout = OutputLayout(recipe.output_dir)
    backend = make_recipe_backend(recipe)
    return layout, backend, build_stages(recipe, backend, layout), Plan(recipe, layout)


def test_every_clip_stage_counts_what_it_returns_and_leaves_its_batch_as_it_was(tmp_path):
    recipe = _recipe(tmp_path)
    _, _, stages, plan = _plan(recipe)
    [spec] = plan.clip_shards()
    batch: list = list(spec.items)
    log = ShardLog()
    for stage in stages.clips:
        before = copy.deepcopy(batch)
        result = stage.process(batch)
        assert isinstance(result, StageResult) and batch == before, f"{stage.name} changed its input batch"
        assert stage.process(batch).outputs == result.outputs, f"{stage.name} is not a function of its batch"
        batch = stage(batch, log)  # the base counts it, once
        assert batch == result.outputs and all(type(c) is Clip for c in batch), stage.name
    examples = stages.expand(batch, log)
    assert examples and all(type(e) is Example for e in examples), "a batch holds one record type"
    assert [s.name for s in stages.clips] == ["read", "normalize", "probe_audio", "enrich"]
    counted = {name: s.to_dict() for name, s in log.stages.items()}
    for name, stats in counted.items():
        assert stats["inputs"] == stats["outputs"] + stats["rejected"], (name, stats)
    assert counted["read"]["inputs"] == 8 and counted["read"]["rejected_by_reason"] == {"missing_audio": 1}
    assert counted["probe_audio"]["rejected_by_reason"] == {"missing_audio": 1}
    assert counted["task.transcription"] == {"inputs": 6, "outputs": 6, "rejected": 0, "rejected_by_reason": {}}
    assert [(r["id"], r["stage"]) for r in log.rejects] == [("src/empty", "read"), ("src/gone", "probe_audio")]
    assert sum(log.seconds.values()) > 0 and set(log.seconds) >= {"read", "normalize", "probe_audio", "enrich"}


def test_a_record_stage_implements_one_method_and_the_base_does_the_accounting():
    class Even(RecordStage):
        name = "even"

        def one(self, record: int) -> int:
            if record % 2:
                raise Reject("odd_number", f"{record} is odd")
            return record // 2

    log = ShardLog()
    assert Even()([1, 2, 3, 4], log) == [1, 2]
    assert log.stages["even"].to_dict() == {"inputs": 4, "outputs": 2, "rejected": 2,
                                            "rejected_by_reason": {"odd_number": 2}}
    assert [r["reason"] for r in log.rejects] == ["odd_number", "odd_number"]
    assert Rejected("x", "server_error", "503", transient=True).entry("generate")["transient"] is True
    with pytest.raises(Exception, match="--strict: even rejected"):
        Even()([1], ShardLog(strict=True))


def test_the_shard_protocol_runs_on_answers_from_anywhere(tmp_path):
    """What a Ray task or any other executor does: prepare the shard where its inputs are, get the
    answers to its requests (here: the backend itself, no generation service), apply them."""
    recipe = _recipe(tmp_path)
    layout, backend, stages, plan = _plan(recipe)
    [spec] = plan.clip_shards()
    pending = prepare_shard(spec, stages, layout.storage)
    asked = len(pending.requests)
    assert asked and not pending.finished
    while not pending.finished:
        answers = [Answer(completion, "sent") for completion in generate(backend, pending.requests)]
        advance(pending, stages, answers)
    generated = pending.log.stages["generate"].to_dict()
    assert generated["inputs"] == generated["outputs"] == len(pending.examples) and generated["rejected"] == 0
    assert {e.task for e in pending.examples} == set(TASKS)
    assert all(e.response and e.request is None for e in pending.examples)
    assert pending.log.llm["requests"] == pending.log.llm["sent"] == asked
    # a shard is a function of its spec: prepared again, it asks the very same requests
    again = prepare_shard(spec, stages, layout.storage)
    keys = [r.key("template", None) for r in again.requests]
    assert keys == [r.key("template", None) for r in prepare_shard(spec, stages, layout.storage).requests]


def _request(text: str) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], SamplingParams(temperature=0.0, max_tokens=16), "open_ended")


def test_the_generation_service_answers_in_order_sends_twins_once_and_keeps_only_answers(tmp_path):
    def reply(body):
        if "overloaded" in body["messages"][-1]["content"]:
            return 503, {"error": {"message": "model is loading"}}
        return scripted_reply(body)

    with ChatServer(reply) as server:
        config = LLMConfig(backend="openai", model="tiny", api_base=server.url, retry={"max_attempts": 1})
        ledger = Ledger(tmp_path / "ledger.sqlite")
        asks = [_request("one"), _request("two"), _request("one"), _request("overloaded")]
        with GenerationService(make_backend(config), ledger) as service:
            answers = service.submit(asks).result(timeout=60)
            counters = service.snapshot()
        assert [a.origin for a in answers] == ["sent", "sent", "dedup", "sent"]
        assert answers[0].completion.text == answers[2].completion.text != answers[1].completion.text
        assert answers[3].completion.error_reason == "server_error" and answers[3].completion.transient
        assert len(server.requests) == 3 and counters["sent"] == 3 and counters["dedup"] == 1
        assert counters["failed.server_error"] == 1

        with GenerationService(make_backend(config), ledger) as service:  # a later run, the same ledger
            again = service.submit(asks).result(timeout=60)
        ledger.close()
        assert [a.origin for a in again] == ["ledger", "ledger", "dedup", "sent"], "a failure is never kept"
        assert [a.completion.text for a in again[:3]] == [a.completion.text for a in answers[:3]]
        assert len(server.requests) == 4


def test_the_assemble_pass_on_example_parts_written_by_hand(tmp_path):
    """The release from the executor's example parts alone: splits by speaker, Parquet and exports."""
    from datasets import Audio, load_dataset

    recipe = _recipe(tmp_path, splits={"eval": {"per_cell": 1}}, output={"formats": ["parquet", "messages"]})
    layout, backend, stages, plan = _plan(recipe)
    [spec] = plan.clip_shards()
    pending = prepare_shard(spec, stages, layout.storage)
    advance(pending, stages, [Answer(c, "sent") for c in generate(backend, pending.requests)])
    examples = pending.examples
    parts = []
    for index, half in enumerate((examples[: len(examples) // 2], examples[len(examples) // 2:])):
        buffer = io.BytesIO()
        pq.write_table(examples_to_arrow(half), buffer)
        layout.storage.write_bytes(layout.examples_part(index), buffer.getvalue())
        parts.append(layout.examples_part(index))

    assembly = assemble(parts, recipe, layout)
    split = assembly.stages["split"].to_dict()
    assert split["inputs"] == len(examples) and split["outputs"] == sum(assembly.examples.values())
    # a held-out speaker's examples past its cell are left out, each one a reject with its reason
    rejects = [json.loads(line) for path in assembly.reject_files for line in layout.storage.read_text(path).splitlines()]
    assert split["rejected_by_reason"] == {"held_out_speaker": len(rejects)} and rejects
    assert {r["reason"] for r in rejects} == {"held_out_speaker"}
    held_out = {split for _, split in assembly.examples} - {"train"}
    assert held_out == {"eval"}, assembly.examples
    speakers = {split: set() for split in ("train", "eval")}
    for split in ("train", "eval"):  # every task of a part in one file per split
        files = sorted(str(p) for p in (layout.root / "data").glob(f"{split}-part-*.parquet"))
        rows = load_dataset("parquet", data_files=files, split="train")
        rows = rows.cast_column("audios", [Audio(decode=False)])  # decoding needs torchcodec
        for task in TASKS:
            assert rows["task"].count(task) == assembly.examples[(task, split)]
        speakers[split] |= set(rows["speaker_id"])
        assert all(cell["bytes"] for row in rows for cell in row["audios"]), "audio embedded"
    assert speakers["eval"] and not speakers["eval"] & speakers["train"], "held out by speaker"
    exported = [json.loads(line) for p in (layout.root / "exports" / "messages").rglob("*.jsonl")
                for line in p.read_text().splitlines()]
    assert len(exported) == sum(assembly.exports["messages"].rows.values()) == sum(assembly.examples.values())


class ReverseExecutor(Executor):
    """An executor of the base's interface that finishes its shards last to first, as a cluster
    may: prepare every shard, then answer and write them in reverse order."""

    name = "reverse"

    def run_shards(self, specs):
        prepared = [self.prepare(spec) for spec in specs if not self.reuse(spec)]
        self.pending = getattr(self, "pending", []) + prepared

    def drain(self):
        for pending in reversed(self.pending):
            while not pending.finished:
                advance(pending, self.stages, self.service.submit(pending.requests).result(timeout=60))
            self.finish(pending)


def _release_files(out) -> dict:
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and ".work" not in p.parts and "report" not in p.parts):
        name = path.relative_to(out).as_posix()
        files[name] = pq.read_table(path).to_pylist() if name.endswith(".parquet") else path.read_bytes()
    return files


def test_an_executor_that_finishes_shards_out_of_order_makes_the_same_release(tmp_path):
    def recipe(out):
        return parse_recipe(recipe_dict(make_corpus(tmp_path / "corpus", n=9), out,
                                        ["transcription", "sit_ssp", "comparison_template"],
                                        engine={"shard_size": 2}, output={"report": False}))

    in_order = make_executor(recipe(tmp_path / "local"), progress=False)
    local = in_order.run()
    last_first = ReverseExecutor(recipe(tmp_path / "reverse"), progress=False)
    reverse = last_first.run()
    assert reverse.shards == local.shards >= 6 and reverse.examples == local.examples
    assert last_first.digests == in_order.digests, "the release fingerprint's inputs, in shard order"
    runs = [json.loads((tmp_path / name / "run.json").read_text()) for name in ("local", "reverse")]
    for run in runs:  # what differs by the folder's name or the clock
        for varying in ("started_at", "seconds", "stage_seconds", "ledger", "recipe", "release_fingerprint"):
            run.pop(varying)
    assert runs[0] == runs[1], "counts, splits and pairing do not depend on the order"
    local_files, reverse_files = _release_files(tmp_path / "local"), _release_files(tmp_path / "reverse")
    local_files.pop("run.json"), reverse_files.pop("run.json")
    card = "README.md"
    assert local_files.pop(card).replace(b"/local", b"/reverse") == reverse_files.pop(card)
    assert local_files == reverse_files


@pytest.mark.parametrize("max_partitions", [512, 2])
def test_the_pair_plan_reads_each_shards_clips_when_it_comes_up_and_holds_no_clip(tmp_path, monkeypatch,
                                                                                   max_partitions):
    """Pairing over a clip index in three parts, two pairs a shard: the pairs are the strategy's,
    in its order, each clip read back whole from the index; the plan keeps ids, not clips; the
    spilled clips are gone once the shards have been taken. With more shards than spill
    partitions (2), consecutive shards share one."""
    import gc

    from speechsift.engine import pairs as pairs_module

    monkeypatch.setattr(pairs_module, "MAX_PARTITIONS", max_partitions)

    from speechsift.engine.pairs import write_clip_index
    from speechsift.records import AudioRef, clip_to_row
    from speechsift.tasks.pairing import entry_of, form_pairs

    emotions = ["happy", "sad", "angry", "neutral"]
    clips = [Clip(f"c{i:02d}", "src", AudioRef(path=f"/audio/c{i:02d}.wav", duration_s=1.0 + i / 10), language="en",
                  speaker_id=f"spk{i % 3}", text=f"Words {i}.", meta={"emotion": emotions[i % 4], "gender": "female"},
                  features={"pitch_mean_hz": 180.0 + i}, extra={"corpus_row": i})
             for i in range(17)]
    recipe = parse_recipe(recipe_dict(tmp_path / "manifest.csv", tmp_path / "out", [
        {"name": "comparison_template", "pairing": {"strategy": "same_speaker_different_emotion", "seed": 3}}],
        engine={"shard_size": 2}))
    layout = OutputLayout(recipe.output_dir)
    parts = [layout.clips_part(i) for i in range(3)]
    for i, path in enumerate(parts):
        write_clip_index(clips[i::3], path, layout.storage)
    expected = form_pairs([entry_of(c) for c in clips], "same_speaker_different_emotion", seed=3).pairs
    by_id = {c.clip_id: clip_to_row(c) for c in clips}
    del clips

    def live_clips() -> int:
        gc.collect()
        return sum(isinstance(o, Clip) for o in gc.get_objects())

    before = live_clips()
    plan = Plan(recipe, layout)
    shards = plan.pair_shards(parts)
    assert shards.items == len(expected) >= 6
    assert plan.pairing["comparison_template"]["pairs"] == len(expected)
    assert live_clips() == before  # planned: ids only, the clips wait on disk, filed by shard
    assert any(layout.pair_work.rglob("*.arrow"))
    first = next(iter(shards))
    assert live_clips() == before + 4  # the first shard's two pairs
    specs = [first, *shards]
    assert [len(s) for s in specs] == [2] * (len(expected) // 2) + [1] * (len(expected) % 2)
    items = [item for spec in specs for item in spec.items]
    assert [(i.a.clip_id, i.b.clip_id) for i in items] == list(expected)
    assert all(clip_to_row(i.a) == by_id[i.a.clip_id] and clip_to_row(i.b) == by_id[i.b.clip_id] for i in items)
    assert {i.task for i in items} == {"comparison_template"}
    assert not layout.pair_work.exists() or not any(layout.pair_work.rglob("*.arrow"))
