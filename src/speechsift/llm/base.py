"""The one protocol every LLM backend implements, and the registry that builds them by name."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from speechsift.errors import ConfigError
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig


@runtime_checkable
class Backend(Protocol):
    """Answers chat requests. ``agenerate`` is the one implementation; ``generate`` wraps it."""

    name: str
    model: str | None
    # True: answers arrive one by one (remote servers); False: a whole batch at once (local engines).
    streaming: bool
    # False for backends whose answers cost nothing to redo (template): not worth a ledger entry.
    cacheable: bool

    def supports(self, task: str) -> bool:
        """Whether this backend can write responses for ``task``."""
        ...

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """One completion per request, in order; failures are completions with an error."""
        ...


def generate(backend: Backend, requests: Sequence[ChatRequest]) -> list[Completion]:
    """The synchronous entry point: runs ``backend.agenerate`` on a fresh event loop."""
    if not requests:
        return []

    async def answer() -> list[Completion]:
        try:
            return await backend.agenerate(requests)
        finally:
            await aclose(backend)

    return asyncio.run(answer())


async def aclose(backend: Backend) -> None:
    """Release what a backend holds on the running loop (connection pools), if anything."""
    close = getattr(backend, "aclose", None)
    if close is not None:
        await close()


# (config, section): ``section`` names where the settings came from (``llm``, ``llms.judge``,
# ``eval.model``), so that an error names the field to correct.
BackendFactory = Callable[["LLMConfig", str], Backend]
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def add(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[name] = factory
        return factory

    return add


def backend_names() -> list[str]:
    _load_builtin_backends()
    return sorted(_BACKENDS)


def make_backend(config: "LLMConfig", section: str = "llm") -> Backend:
    """Build the backend the recipe names; errors name the settings as ``section.<field>``."""
    _load_builtin_backends()
    try:
        factory = _BACKENDS[config.backend]
    except KeyError:
        raise ConfigError(
            f"{section}.backend: unknown backend {config.backend!r}; choose one of {', '.join(sorted(_BACKENDS))}."
        ) from None
    return factory(config, section)


def _load_builtin_backends() -> None:
    # Imported for their @register_backend side effect.
    from speechsift.llm import openai_backend, template, transformers_backend, vllm_backend  # noqa: F401
