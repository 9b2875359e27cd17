"""Several LLMs in one recipe: the recipe's ``llm`` (named ``default``) and the named ``llms:``
behind the one ``Backend`` protocol.

Each request names the LLM that answers it (``ChatRequest.route``; None is ``default``). The
router sends each group to its backend concurrently, and tells the generation service and the
provenance which backend and model answered (``identity``), so ledger keys and each example's
``generation`` name the real model: responses by several models, candidates of a preference pair
from models × strategies × temperatures, a judge that is not the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from speechsift.errors import ConfigError
from speechsift.llm.base import Backend, BackendFactory, aclose, make_backend
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import Recipe

DEFAULT_LLM = "default"


class Router:
    """Named backends; ``default`` answers requests without a route."""

    def __init__(self, backends: Mapping[str, Backend], default: str = DEFAULT_LLM) -> None:
        if default not in backends:
            raise ConfigError(f"llms: no LLM named {default!r}")
        self.backends = dict(backends)
        self.default = self.backends[default]
        self.name = self.default.name
        self.model = self.default.model
        self.streaming = all(getattr(b, "streaming", False) for b in self.backends.values())
        self.cacheable = any(getattr(b, "cacheable", True) for b in self.backends.values())

    def backend_for(self, route: str | None) -> Backend:
        if route is None:
            return self.default
        try:
            return self.backends[route]
        except KeyError:
            raise ConfigError(f"no LLM named {route!r}; the recipe names {', '.join(sorted(self.backends))} "
                              "(add it under `llms:`)") from None

    def identity(self, request: ChatRequest) -> tuple[str, str | None]:
        """The backend kind and model that answer ``request``."""
        backend = self.backend_for(request.route)
        return backend.name, backend.model

    def supports(self, task: str) -> bool:
        return self.default.supports(task)

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        groups: dict[str | None, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.route, []).append(index)
        results: list[Completion | None] = [None] * len(requests)

        async def run(route: str | None, indices: list[int]) -> None:
            backend = self.backend_for(route)
            for index, completion in zip(indices, await backend.agenerate([requests[i] for i in indices])):
                results[index] = completion

        await asyncio.gather(*(run(route, indices) for route, indices in groups.items()))
        return results  # type: ignore[return-value]

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await aclose(backend)


def identity(backend: Backend, request: ChatRequest) -> tuple[str, str | None]:
    """Who answers ``request`` on ``backend``: its routed backend's kind and model."""
    routed = getattr(backend, "identity", None)
    return routed(request) if routed is not None else (backend.name, backend.model)


def make_recipe_backend(recipe: "Recipe", make: BackendFactory = make_backend) -> Backend:
    """The recipe's backend: its ``llm`` alone, or a router over ``llm`` and the named ``llms``;
    ``make`` builds each one (an executor may place engines elsewhere: on a Ray cluster's GPUs)."""
    default = make(recipe.llm, "llm")
    if not recipe.llms:
        return default
    return Router({DEFAULT_LLM: default,
                   **{name: make(config, f"llms.{name}") for name, config in recipe.llms.items()}})
