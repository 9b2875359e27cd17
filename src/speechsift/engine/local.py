"""The local executor (``engine.executor: local``, the default): shards run in this process, in
order, beside the generation service's event loop; measuring runs on a process pool of
``engine.workers`` processes (default: every core).

While a shard's requests are answered the next shards are prepared, keeping up to
``inflight_budget`` requests submitted ahead, so the server never idles at shard boundaries; the
answers that arrive for any queued shard are applied at once, so a multi-step task's next step is
asked as soon as it can be. Shards are finished (written) in order.
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from speechsift.engine.enrich import MapFn, default_workers, measuring_pool, pool_map
from speechsift.engine.executor import Executor, PendingShard, advance, register_executor
from speechsift.engine.plan import ShardSpec
from speechsift.llm.base import Backend
from speechsift.recipe import Recipe


def inflight_budget(recipe: Recipe, backend: Backend) -> int:
    """Requests to keep submitted ahead: enough that a streaming backend never runs dry."""
    if getattr(backend, "streaming", False):
        return 4 * recipe.llm.concurrency
    return recipe.llm.batch_size


@register_executor
class LocalExecutor(Executor):
    name = "local"

    def __init__(self, recipe: Recipe, **options: Any) -> None:
        super().__init__(recipe, **options)
        self.queue: deque[PendingShard] = deque()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def map(self) -> MapFn:
        """Measuring on a process pool (started on first use) when more than one worker is asked."""
        workers = self.recipe.engine.workers or default_workers()
        if workers == 1:
            return map

        def on_pool(function: Any, items: Any) -> Any:
            if self._pool is None:
                self._pool = measuring_pool(workers)
            return pool_map(self._pool)(function, items)

        return on_pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def prepared(self, specs: Iterable[ShardSpec]) -> Iterator[PendingShard]:
        """The shards of ``specs`` that are not done, prepared (here: one by one, in this process)."""
        return (self.prepare(spec) for spec in specs if not self.reuse(spec))

    def run_shards(self, specs: Iterable[ShardSpec]) -> None:
        budget = inflight_budget(self.recipe, self.backend)
        for pending in self.prepared(specs):
            self.submit(pending)
            while self.queue:
                self.advance_ready()  # answers that arrived: apply, ask the next steps
                if not (self.queue[0].finished or sum(len(p.requests) for p in self.queue) > budget):
                    break
                self.complete(self.queue.popleft())

    def drain(self) -> None:
        while self.queue:
            self.complete(self.queue.popleft())

    def submit(self, pending: PendingShard) -> None:
        """Hand the shard's round of requests to the generation service and queue the shard."""
        pending.answers = self.service.submit(pending.requests)
        self.queue.append(pending)

    def step(self, pending: PendingShard, answers: list[Any]) -> None:
        """Apply a round of answers; submit the next round where there is one."""
        if advance(pending, self.stages, answers):
            pending.answers = self.service.submit(pending.requests)

    def advance_ready(self, busy: concurrent.futures.Future | None = None) -> None:
        """Apply the answers that have arrived for any queued shard (except the one waited on as
        ``busy``), so that a shard's next step is asked at once, not when its turn to be written comes."""
        for pending in self.queue:
            if not pending.finished and pending.answers is not busy and pending.answers.done():  # type: ignore[union-attr]
                self.step(pending, pending.answers.result())  # type: ignore[union-attr]

    def wait(self, future: concurrent.futures.Future) -> Any:
        polls = 0
        while True:
            try:
                return future.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                self.advance_ready(busy=future)  # other shards' next steps
                polls += 1
                if polls % 5 == 0:
                    self.reporter.llm(self.service.snapshot())

    def complete(self, pending: PendingShard) -> None:
        """Wait for every step of the shard, then write it."""
        while not pending.finished:
            self.step(pending, self.wait(pending.answers))  # type: ignore[arg-type]
        self.finish(pending)


__all__ = ["LocalExecutor", "inflight_budget"]
