"""Chat templates as data, for raw completion (Magpie, Xu et al. 2024; REFERENCE.md §8).

Magpie sends only the template's text up to where the user's message would begin (the pre-query
prefix), so an instruct model writes a user turn itself; later turns send the whole conversation
rendered the same way. Each family's markers and stop strings follow its published chat template
(the tokenizer_config.json of the models named) and Magpie's own configs, which list Llama-3,
Qwen2, Gemma, Phi-3 and Mistral with their stop tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechsift.errors import ConfigError


@dataclass(frozen=True)
class ChatTemplate:
    """How one family renders a conversation. ``system`` holds ``{system}``; ``default_system``
    is what the family's template inserts when a conversation has no system message."""

    name: str
    models: tuple[str, ...]  # substrings of model names (lower case) that identify the family
    begin: str
    user: str
    user_end: str
    assistant: str
    assistant_end: str
    stop: tuple[str, ...]
    system: str = ""
    default_system: str | None = None

    def render(self, turns: list[tuple[str, str]], system: str | None = None) -> str:
        """The conversation ``[(role, text), ...]`` and the prefix of the next user turn."""
        text = self.begin
        system = system if system is not None else self.default_system
        if system and self.system:
            text += self.system.format(system=system)
        for role, content in turns:
            if role == "user":
                text += self.user + content + self.user_end
            else:
                text += self.assistant + content + self.assistant_end
        return text + self.user

    def pre_query(self, system: str | None = None) -> str:
        """The prefix that makes the model write the first user turn."""
        return self.render([], system)


_QWEN = dict(begin="", system="<|im_start|>system\n{system}<|im_end|>\n", user="<|im_start|>user\n",
             user_end="<|im_end|>\n", assistant="<|im_start|>assistant\n", assistant_end="<|im_end|>\n",
             stop=("<|im_end|>", "<|im_start|>", "<|endoftext|>"))

TEMPLATES: dict[str, ChatTemplate] = {t.name: t for t in (
    # Meta Llama 3 and 3.1-3.3 Instruct: header tokens, <|eot_id|> ends every turn.
    ChatTemplate("llama3", ("llama-3", "llama3", "llama-3.1", "llama-3.2", "llama-3.3"),
                 begin="<|begin_of_text|>",
                 system="<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>",
                 user="<|start_header_id|>user<|end_header_id|>\n\n", user_end="<|eot_id|>",
                 assistant="<|start_header_id|>assistant<|end_header_id|>\n\n", assistant_end="<|eot_id|>",
                 stop=("<|eot_id|>", "<|start_header_id|>", "<|end_of_text|>")),
    # Qwen2 / Qwen2.5 Instruct: ChatML with a default system message; Qwen3: ChatML without one.
    ChatTemplate("qwen2", ("qwen2-", "qwen2_", "qwen2 "), default_system="You are a helpful assistant.", **_QWEN),
    ChatTemplate("qwen2.5", ("qwen2.5",),
                 default_system="You are Qwen, created by Alibaba Cloud. You are a helpful assistant.", **_QWEN),
    ChatTemplate("qwen3", ("qwen3",), **_QWEN),
    # Gemma and Gemma 2 instruction-tuned: <start_of_turn>user / model, no system role.
    ChatTemplate("gemma", ("gemma",), begin="<bos>", user="<start_of_turn>user\n", user_end="<end_of_turn>\n",
                 assistant="<start_of_turn>model\n", assistant_end="<end_of_turn>\n",
                 stop=("<end_of_turn>", "<start_of_turn>", "<eos>")),
    # Phi-3 (mini/small/medium) Instruct.
    ChatTemplate("phi3", ("phi-3", "phi3"), begin="<s>", system="<|system|>\n{system}<|end|>\n",
                 user="<|user|>\n", user_end="<|end|>\n", assistant="<|assistant|>\n", assistant_end="<|end|>\n",
                 stop=("<|end|>", "<|assistant|>", "<|user|>", "<|endoftext|>")),
    # Mistral Instruct (v0.1-v0.3, Mixtral): [INST] ... [/INST] answer</s>.
    ChatTemplate("mistral", ("mistral", "mixtral"), begin="<s>", user="[INST] ", user_end=" [/INST]",
                 assistant="", assistant_end="</s>", stop=("[/INST]", "</s>", "[INST]")),
)}


def _model_key(model: str) -> str:
    return re.sub(r"\s+", " ", model.rsplit("/", 1)[-1].lower())


def template_for(model: str | None, name: str = "auto", where: str = "template") -> ChatTemplate:
    """The chat template named ``name``, or (``auto``) the one whose family the model name shows."""
    if name != "auto":
        try:
            return TEMPLATES[name]
        except KeyError:
            raise ConfigError(f"{where}: unknown chat template {name!r}; choose auto or one of "
                              f"{', '.join(TEMPLATES)}") from None
    key = _model_key(model or "")
    # the most specific family first: qwen2.5 before qwen2
    for template in sorted(TEMPLATES.values(), key=lambda t: -max(len(m) for m in t.models)):
        if any(pattern in key + " " for pattern in template.models):
            return template
    raise ConfigError(f"{where}: cannot tell the chat template of model {model!r} from its name; set it to one "
                      f"of {', '.join(TEMPLATES)} (the family whose chat template the model uses)")


def clean_user_turn(text: str, template: ChatTemplate) -> str:
    """A generated user turn cut at the first marker of the template (a model that runs on into the
    assistant's turn) and trimmed."""
    markers = [m for m in (*template.stop, template.user_end.strip(), template.assistant.strip()) if m]
    cut = min((i for i in (text.find(m) for m in markers) if i >= 0), default=len(text))
    return text[:cut].strip()
