"""The Ray executor (``engine.executor: ray``, ``--executor ray``, ``--ray-address HOST:PORT``): the
local executor's run, with the shards prepared as Ray tasks on a cluster.

What runs where:

- **Shards are Ray tasks** (``prepare_shard``, one CPU each): reading and probing the audio, the
  label chain, measuring (``features:``) and the expansion into examples, a clip shard's pairing
  index part too. Up to twice the cluster's CPUs of shards are prepared ahead, so measuring scales
  with the cluster's CPUs. Tasks, not Ray Data ``map_batches``: a shard is the unit of resume (its
  done-marker, its digest, its transient failures), of the clip index and of the pair shards that
  read it; a task per shard keeps that unit and its order exactly as the local executor has them,
  so the output is the same, where a Dataset would re-cut the rows into its own blocks.
- **Generation and the ledger stay on the driver** (``executor.Executor``): one generation
  service sends every request, so ``llm.concurrency`` is a limit for the whole cluster, and one
  process writes the request ledger (SQLite), every answer before its example is built: a killed
  job resumed re-sends at most the requests in flight, an unchanged rerun sends nothing. With the
  ``vllm`` backend the engines live in Ray actors on the cluster's GPU nodes (``VLLMActors``, one
  per GPU) and the driver hands them batches.
- **Release parts are Ray tasks too** (``write_part``, one CPU each): the assemble pass decides on
  the driver (curation, dedup, splits, mixture: ``engine/assemble.py``) and writes each part's
  decisions to OUT; a task reads a part's examples and decisions and writes its data, complete and
  export files. Writing a shard's files, the exporters' closing files and the card stay on the
  driver. Everything goes through the layout's storage: OUT is a folder every node reaches (a
  shared filesystem) or an object store (``s3://...``).

Faults: a shard or part task whose node or worker dies is run again by Ray (``SHARD_RETRIES``), as
is one whose storage call fails (``OSError``); a shard that still fails ends the run with a paragraph
naming the shard, its first input and the node, before anything of the release is written; a part
that still fails, naming the part and the node, before the release is marked finished. Finished
shards are kept, so the same command resumes.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from speechsift.engine.enrich import MapFn
from speechsift.engine.executor import PendingShard, RunResult, prepare_shard, register_executor
from speechsift.engine.local import LocalExecutor
from speechsift.engine.plan import ShardSpec
from speechsift.engine.release_part import PartJob, PartResult, write_part
from speechsift.errors import ConfigError, CorpusError, SpeechsiftError, StorageError
from speechsift.llm.base import Backend, make_backend
from speechsift.llm.router import make_recipe_backend
from speechsift.llm.types import ChatRequest, Completion
from speechsift.recipe import LLMConfig, Recipe

try:
    import ray
    import ray.exceptions
except ImportError:  # pragma: no cover - the ray extra is in dev
    raise ConfigError("engine.executor: ray needs Ray on this machine and every node: "
                      "pip install -c constraints.txt 'speechsift[ray]' (or set engine.executor: local).") from None

# Tries of a shard task beyond the first, when its worker or node dies or a storage call fails.
SHARD_RETRIES = 3
# Seconds to wait for a named cluster's head to accept a connection before saying it is unreachable
# (Ray's own connect retries for minutes).
CONNECT_TIMEOUT_S = 10.0
# A local Ray instance gets at least this many CPUs: a scheduling number, not cores. With 2, Ray's own
# workers can take every slot and the pipeline hangs (REFERENCE.md §9).
MIN_LOCAL_CPUS = 4


class ShardFailedError(SpeechsiftError):
    """A shard, or a release part, that failed on the cluster after its retries."""


def _prepare(spec: ShardSpec, stages: Any, storage: Any, strict: bool, settled: dict) -> PendingShard:
    return prepare_shard(spec, stages, storage, strict=strict, settled=settled)


# What a shard task is tried again for, besides its worker or node dying: reading or writing storage
# (StorageError is speechsift's paragraph for a refused write or read of OUT).
RETRIED = (OSError, StorageError)
prepare_task = ray.remote(num_cpus=1, max_retries=SHARD_RETRIES, retry_exceptions=list(RETRIED))(_prepare)
write_part_task = ray.remote(num_cpus=1, max_retries=SHARD_RETRIES, retry_exceptions=list(RETRIED))(write_part)


def describe(spec: ShardSpec) -> str:
    """A shard as a user finds it: its number, kind, size and first input."""
    first = spec.items[0] if spec.items else None
    name = (getattr(first, "clip_id", None) or getattr(first, "id", None) or getattr(first, "item_id", None)
            or getattr(getattr(first, "a", None), "clip_id", None))
    return f"shard {spec.index} ({len(spec)} {spec.kind} items, the first {name!r})" if name else f"shard {spec.index}"


def shard_error(spec: ShardSpec, exc: Exception) -> Exception:
    """The error to raise for a shard task that failed for good: a configuration or input error as it
    is (it names the file and the fix), anything else as one paragraph naming the shard, the node and
    the cause."""
    return task_error(describe(spec), exc, "The shards finished before it are kept and nothing of the release was "
                                           "written; fix the cause and run the same command again to resume.")


def part_error(job: PartJob, exc: Exception) -> Exception:
    """The error to raise for a release part's task that failed for good (see ``shard_error``)."""
    return task_error(f"release part {job.part}", exc, "Every shard is kept and the release is not marked finished; "
                                                       "fix the cause and run the same command again to write it.")


def task_error(what: str, exc: Exception, then: str) -> Exception:
    """A task's failure as the run reports it: a configuration or input error as it is, anything else as
    one paragraph naming ``what`` failed, the node, the cause and ``then`` (what is kept, what to do)."""
    cause = getattr(exc, "cause", None) if isinstance(exc, ray.exceptions.RayTaskError) else None
    if isinstance(cause, (ConfigError, CorpusError)):
        return cause
    # Ray's error for a task names its worker as "(pid=..., ip=...)" (the exception Ray rebuilds
    # around the cause keeps only the text)
    node = re.search(r"\(pid=\d+, ip=([^,)\s]+)", str(exc))
    where = f" on node {node.group(1)}" if node else ""
    if isinstance(cause, SpeechsiftError):
        message = str(cause)
    elif cause is not None:
        message = f"{type(cause).__name__}: {cause}"
    else:  # the worker or node died, or the object was lost, on every try
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    tries = f" after {SHARD_RETRIES + 1} tries" if cause is None or isinstance(cause, RETRIED) else ""
    return ShardFailedError(f"{what} failed{where}{tries}: {message.rstrip('.')}. {then}")


def check_reachable(address: str) -> None:
    """A ConfigError at once when no Ray head answers at ``address`` (``host:port``, ``ray://host:port``)."""
    if address == "auto" or address.startswith("local"):
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"engine.ray_address / --ray-address: {address!r} is not a Ray head address; write "
                          "host:port (the address `ray start --head` prints, port 6379 by default).")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(
            f"engine.ray_address / --ray-address: no Ray cluster answers at {address} ({exc.strerror or exc}). "
            "Start one there with `ray start --head`, correct the address, or leave it unset to run on a Ray "
            "instance started on this machine.") from None


@contextmanager
def connected(address: str | None) -> Iterator[None]:
    """Ray connected for the run: to ``address`` (or RAY_ADDRESS), or a Ray instance started on this
    machine; one this run started is shut down after it. A connection made before (tests, notebooks)
    is used as it is."""
    if ray.is_initialized():
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        check_reachable(address)
        options: dict[str, Any] = {"address": address}
    else:
        options = {"num_cpus": max(os.cpu_count() or 1, MIN_LOCAL_CPUS), "include_dashboard": False}
    try:
        ray.init(**options, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError) as exc:
        what = f"cannot join the Ray cluster at {address}" if address else "cannot start Ray on this machine"
        raise ConfigError(f"engine.ray_address / --ray-address: {what} ({exc}); check the address, or that this "
                          "machine's Ray matches the cluster's version.") from None
    try:
        yield
    finally:
        ray.shutdown()


class VLLMEngine:
    """A Ray actor holding one vLLM engine on a GPU (the ``vllm`` backend, built where it runs)."""

    def __init__(self, config: LLMConfig, section: str) -> None:
        self.backend = make_backend(config, section)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        return self.backend.generate_sync(requests)


class VLLMActors:
    """The ``vllm`` backend on a Ray cluster: one engine per GPU, each in an actor on a GPU node; a
    batch is split evenly between them. Same name, model and answers as the backend it stands for,
    so ledger keys and provenance do not change."""

    name = "vllm"
    streaming = False
    cacheable = True
    raw_completion = True

    def __init__(self, config: LLMConfig, section: str) -> None:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if gpus < 1:
            raise ConfigError(
                f"{section}.backend: vllm on the Ray executor runs its engines on the cluster's GPU nodes, and this "
                "cluster has no GPU. Join GPU nodes (`ray start --address HEAD --num-gpus N`), use `backend: openai` "
                "against a vLLM server, or run with engine.executor: local on a GPU machine.")
        self.model = config.model
        engine = ray.remote(num_gpus=1)(VLLMEngine)
        self.actors = [engine.remote(config, section) for _ in range(gpus)]

    def supports(self, task: str) -> bool:
        return True

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        requests = list(requests)
        # samples of one prompt stay together, so vLLM shares their prefix (requests come grouped)
        size = -(-len(requests) // len(self.actors))
        chunks = [requests[i:i + size] for i in range(0, len(requests), size)]
        answers = await asyncio.gather(*(actor.generate.remote(chunk) for actor, chunk in zip(self.actors, chunks)))
        return [completion for chunk in answers for completion in chunk]

    async def aclose(self) -> None:
        for actor in self.actors:
            ray.kill(actor)


def backend_on_cluster(config: LLMConfig, section: str) -> Backend:
    """A recipe backend for the cluster: vLLM engines in actors on GPU nodes, any other backend as it is."""
    if config.backend == "vllm":
        return VLLMActors(config, section)
    return make_backend(config, section)


def in_order(items: Iterable[Any], submit: Callable[[Any], Any], collect: Callable[[Any, Any], Any]) -> Iterator[Any]:
    """``collect(item, task)`` of each item in order, its task (``submit(item)``) started up to twice the
    cluster's CPUs ahead; a failure cancels the tasks still in flight."""
    ahead = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    window: deque[tuple[Any, Any]] = deque()
    try:
        for item in items:
            window.append((item, submit(item)))
            if len(window) >= ahead:
                yield collect(*window.popleft())
        while window:
            yield collect(*window.popleft())
    finally:  # a failed run leaves no task behind
        for _, task in window:
            ray.cancel(task, force=True)


@register_executor
class RayExecutor(LocalExecutor):
    name = "ray"

    def __init__(self, recipe: Recipe, **options: Any) -> None:
        super().__init__(recipe, **options)
        self._stages: Any = None  # the stages in Ray's object store, put once per run

    def run(self) -> RunResult:
        with connected(self.recipe.engine.ray_address):
            return super().run()

    def make_backend(self) -> Backend:
        return make_recipe_backend(self.recipe, backend_on_cluster)

    def map(self) -> MapFn:
        """A shard measures its clips in its own task: the cluster's CPUs are the pool."""
        return map

    def prepared(self, specs: Iterable[ShardSpec]) -> Iterator[PendingShard]:
        """The shards not done, prepared as Ray tasks, up to twice the cluster's CPUs ahead; in order."""
        if self._stages is None:
            self.check_speech_cache()
            self._stages = ray.put(self.stages)

        def submit(spec: ShardSpec) -> Any:
            return prepare_task.remote(spec, self._stages, self.layout.storage, self.strict,
                                       self.settled_failures(spec))

        return in_order((spec for spec in specs if not self.reuse(spec)), submit, self.collect)

    def write_parts(self, jobs: list[PartJob], workers: int) -> Iterator[PartResult]:
        """The release's parts as Ray tasks, up to twice the cluster's CPUs ahead, in order (the cluster's
        CPUs write them: ``workers``, this machine's, does not apply)."""
        return in_order(jobs, write_part_task.remote, self.written)

    @staticmethod
    def written(job: PartJob, task: Any) -> PartResult:
        try:
            return ray.get(task)
        except ray.exceptions.RayError as exc:
            raise part_error(job, exc) from None

    def check_speech_cache(self) -> None:
        """Speech synthesized in shard tasks goes to the speech cache, which for an object-store OUT is
        ``engine.cache_dir``: on several machines it must be a folder they share."""
        hosts = {node["NodeManagerAddress"] for node in ray.nodes() if node["Alive"]}
        synthesizes = any(stage.name == "tts" for stage in self.stages.clips)
        if synthesizes and self.layout.remote and self.recipe.engine.cache_dir is None and len(hosts) > 1:
            raise ConfigError(
                f"engine.cache_dir: the recipe synthesizes speech for its text sources, which the shard tasks write "
                f"to the speech cache, and with OUT on an object store ({self.layout.uri}) that cache is a folder of "
                f"each machine ({self.layout.tts_cache}); this cluster spans {len(hosts)} machines. Set "
                "engine.cache_dir to a folder every node reaches (a shared filesystem).")

    def collect(self, spec: ShardSpec, task: Any) -> PendingShard:
        try:
            pending = ray.get(task)
        except ray.exceptions.RayError as exc:
            raise shard_error(spec, exc) from None
        self.reporter.advance(len(spec))
        return pending


__all__ = ["RayExecutor", "ShardFailedError", "VLLMActors", "connected"]
