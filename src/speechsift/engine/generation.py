"""The generation service: one background event loop that answers LLM requests for every shard.

The executor submits a shard's requests and goes on preparing the next shard, so the backend
always has work in flight and never idles at shard boundaries. Each request is answered from the
ledger when it can be, joined to an identical request already in flight when there is one, and
otherwise sent; every answer is committed to the ledger the moment it arrives, before any example
is built from it, so a killed run loses only what was in flight. Failures are never committed:
they come back as completions with a reject code (transient ones are asked again by a rerun).

Two failures end the run instead: a server that does not answer at all
(``ServerUnreachableError``) and a ledger that cannot be used (``LedgerError``). Every request
still waiting then fails with that error, and so does every later submission.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from speechsift.errors import ServerUnreachableError
from speechsift.llm.base import Backend, aclose
from speechsift.llm.ledger import Ledger, LedgerError
from speechsift.llm.router import identity
from speechsift.llm.types import ChatRequest, Completion


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (a dependency except on Windows: less client CPU per
    request, benchmarks/bench_generation.py), asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# Requests keyed, looked up and sent per chunk, so sending starts at once for a large submission.
SUBMIT_CHUNK = 128


@dataclass(slots=True)
class Answer:
    completion: Completion
    # "sent", "ledger", "dedup" (an identical request answered it) or "settled" (a permanent failure
    # of this shard's earlier attempt, not asked again)
    origin: str


class GenerationService:
    def __init__(self, backend: Backend, ledger: Ledger | None = None) -> None:
        self.backend = backend
        self.ledger = ledger if getattr(backend, "cacheable", True) else None
        self.counters: Counter = Counter()  # this invocation: requests, ledger_hits, sent, retries, ...
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="speechsift-generation", daemon=True)
        self._inflight: dict[str, asyncio.Future[Completion]] = {}
        self.fatal: Exception | None = None  # the error that ended generation, if one did

    def __enter__(self) -> "GenerationService":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Cancel what is still in flight, release the backend's connections, stop the loop."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await aclose(self.backend)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def snapshot(self) -> dict[str, int]:
        """A copy of the counters, safe to read from another thread (a C-level dict copy)."""
        return dict(self.counters)

    def submit(self, requests: Sequence[ChatRequest]) -> concurrent.futures.Future[list[Answer]]:
        """Answers for ``requests``, in order, as a future the executor can wait on."""
        return asyncio.run_coroutine_threadsafe(self._answer(list(requests)), self._loop)

    def _key(self, request: ChatRequest) -> str:
        return request.key(*identity(self.backend, request))

    async def _answer(self, requests: list[ChatRequest]) -> list[Answer]:
        """Ledger first, then in-flight twins, then the backend; sends start chunk by chunk, so
        the first requests are on the wire before the last keys are even computed."""
        if self.fatal is not None:
            raise self.fatal
        self.counters["requests"] += len(requests)
        keys: list[str] = []
        origins: dict[str, str] = {}
        waiting: dict[str, asyncio.Future[Completion]] = {}
        stored: dict[str, Completion] = {}
        sending: list[asyncio.Task[None]] = []
        for start in range(0, len(requests), SUBMIT_CHUNK):
            chunk = requests[start : start + SUBMIT_CHUNK]
            chunk_keys = [self._key(r) for r in chunk]
            keys += chunk_keys
            fresh = [k for k in dict.fromkeys(chunk_keys) if k not in origins and k not in self._inflight]
            found = self.ledger.lookup(fresh) if self.ledger and fresh else {}
            stored.update(found)
            self.counters["ledger_hits"] += len(found)
            to_send: dict[str, ChatRequest] = {}
            for key, request in zip(chunk_keys, chunk):
                if key in origins:
                    continue
                if key in found:
                    origins[key] = "ledger"
                elif key in self._inflight:
                    origins[key] = "dedup"
                    waiting[key] = self._inflight[key]
                else:
                    origins[key] = "sent"
                    to_send[key] = request
                    waiting[key] = self._inflight[key] = self._loop.create_future()
            if to_send:
                sending.append(asyncio.ensure_future(self._send(to_send)))
            await asyncio.sleep(0)  # let answers that have arrived be handled between chunks
        if sending:
            await asyncio.gather(*sending)
        if self.fatal is not None:
            raise self.fatal
        results: dict[str, Completion] = dict(stored)
        for key, future in waiting.items():
            results[key] = await asyncio.shield(future)
        answers, seen = [], set()
        for key in keys:
            answers.append(Answer(results[key], origins[key] if key not in seen else "dedup"))
            seen.add(key)
        self.counters["dedup"] += sum(1 for a in answers if a.origin == "dedup")
        return answers

    async def _send(self, to_send: dict[str, ChatRequest]) -> None:
        """Send requests (grouped by prompt for streaming backends) and settle their futures."""
        keys = list(to_send)
        if getattr(self.backend, "streaming", False):
            if all(r.sample_index == 0 for r in to_send.values()):  # no samples to share a call
                await asyncio.gather(*(self._call([key], to_send) for key in keys))
                return
            groups: dict[str, list[str]] = {}
            for key in keys:
                request = to_send[key]
                groups.setdefault(request.prompt_key(*identity(self.backend, request)), []).append(key)
            await asyncio.gather(*(self._call(group, to_send) for group in groups.values()))
        else:
            await self._call(keys, to_send)

    async def _call(self, keys: list[str], to_send: dict[str, ChatRequest]) -> None:
        try:
            try:
                completions = await self.backend.agenerate([to_send[k] for k in keys])
            except (asyncio.CancelledError, ServerUnreachableError):
                raise
            except Exception as exc:  # one failing call must not end the run: its requests become rejects
                message = f"the {self.backend.name} backend failed: {type(exc).__name__}: {exc}"
                completions = [Completion(error=message, error_reason="backend_error", transient=True) for _ in keys]
            for key, completion in zip(keys, completions):
                self._settle(key, completion, identity(self.backend, to_send[key]))
        except (ServerUnreachableError, LedgerError) as exc:
            self._stop(exc)

    def _stop(self, error: Exception) -> None:
        """End generation: every request still waiting fails with ``error``, and so will later ones."""
        if self.fatal is None:
            self.fatal = error
        for future in self._inflight.values():
            if not future.done():
                future.set_exception(self.fatal)
                future.exception()  # retrieved here: whoever waits on it re-raises it, nobody else logs it
        self._inflight.clear()

    def _settle(self, key: str, completion: Completion, who: tuple[str, str | None] | None = None) -> None:
        self.counters["sent"] += 1
        self.counters["retries"] += completion.retries
        self.counters["tokens_in"] += completion.prompt_tokens or 0
        self.counters["tokens_out"] += completion.completion_tokens or 0
        if completion.ok:
            if self.ledger is not None:
                self.ledger.record(key, *(who or (self.backend.name, self.backend.model)), completion)
        else:
            self.counters[f"failed.{completion.error_reason}"] += 1
        future = self._inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(completion)
