"""The LLM layer: requests, completions, backends behind one protocol, output parsing."""

from speechsift.llm.base import Backend, backend_names, generate, make_backend, register_backend
from speechsift.llm.types import ChatRequest, Completion, SamplingParams

__all__ = [
    "Backend",
    "ChatRequest",
    "Completion",
    "SamplingParams",
    "backend_names",
    "generate",
    "make_backend",
    "register_backend",
]
