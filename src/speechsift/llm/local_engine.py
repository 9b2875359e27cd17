"""What the local engines (transformers, vllm) share: optional imports with a clear error, the
chat-template call with thinking disabled, and device/dtype choice."""

from __future__ import annotations

import importlib
from typing import Any

from speechsift.errors import ConfigError


def require(module: str, extra: str) -> Any:
    """Import ``module`` or fail with the install command for the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"llm.backend needs the `{module}` package ({exc}). Install it with: "
            f"pip install -c constraints.txt 'speechsift[{extra}]'"
        ) from None


def render_chat(tokenizer: Any, messages: list[dict[str, str]], template_kwargs: dict[str, Any]) -> str:
    """The prompt text for ``messages``, with the template's own switches (``enable_thinking``).

    Templates that do not know a switch ignore it (Jinja leaves unknown variables undefined); a
    tokenizer without any chat template is a configuration error.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("llm.model: the model's tokenizer has no chat template; use an instruct/chat model.")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **template_kwargs)


def pick_device(torch: Any, requested: str | None) -> str:
    if requested:
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(torch: Any, requested: str | None, device: str) -> Any:
    if requested:
        try:
            return getattr(torch, requested)
        except AttributeError:
            raise ConfigError(f"llm.dtype: {requested!r} is not a torch dtype (try bfloat16, float16, float32).") from None
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32
