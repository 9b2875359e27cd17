"""Text as the trainers read it: every token a target trainer gives a meaning inside text is
neutralized, once, before any export is written (``neutral_example``).

A transcript or an LLM answer that holds a literal ``<audio>`` makes LLaMA-Factory stop the whole
dataset ("The number of audios does not match the number of <audio> tokens") and makes ms-swift
bind the audio to the wrong place; a literal ``<|AUDIO|>`` adds an audio DeSTA2.5 then looks for;
a literal ``<|im_end|>`` ends the turn inside the Qwen2 chat template. Such a token keeps its
letters and loses its brackets: ``<audio>`` becomes ``‹audio›``, which no trainer matches and a
reader still understands.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.records import Example, Message, Part, examples_from_arrow, examples_to_arrow

# Tokens with a meaning inside the text of a training row, per trainer (REFERENCE.md §3, §6).
TRAINER_TOKENS: tuple[str, ...] = (
    # LLaMA-Factory 0.9.5 (extras/constants.py AUDIO/IMAGE/VIDEO_PLACEHOLDER) and ms-swift 4.6's media tags
    "<audio>", "<image>", "<video>",
    # Qwen2-Audio's audio token and its frame (the qwen2_audio templates of both trainers); also
    # DeSTA2.5's audio locator (`model.audio_locator`)
    "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>",
    # DeSTA2.5's framing of each locator (docs/train.md)
    "<start_audio>", "<end_audio>",
    # the Qwen2 chat template's control tokens, special in its tokenizer
    "<|im_start|>", "<|im_end|>", "<|endoftext|>",
)
_TOKEN = re.compile("|".join(re.escape(token) for token in TRAINER_TOKENS))
_BRACKETS = str.maketrans("<>", "‹›")


def neutral_text(text: str) -> str:
    """``text`` with every trainer token's angle brackets replaced (``<audio>`` -> ``‹audio›``)."""
    if "<" not in text:
        return text
    return _TOKEN.sub(lambda match: match.group().translate(_BRACKETS), text)


def _neutral_message(message: Message) -> Message:
    if not any(p.text and "<" in p.text for p in message.content):
        return message
    return Message(message.role, [Part(p.type, neutral_text(p.text), p.audio) if p.text else p for p in message.content])


def _neutral(text: str | None) -> str | None:
    return neutral_text(text) if text is not None else None


def neutral_example(example: Example) -> Example:
    """The example with its training text neutralized: instruction, response, transcripts, every
    text part of its messages and a preference pair's rejected response (``extra.rejected``).
    ``generation`` (what was sent to the LLM) stays as it was."""
    rejected = example.extra.get("rejected")
    texts = [example.instruction, example.response, example.transcript, *example.transcripts]
    texts += [p.text for m in example.messages for p in m.content]
    texts += [rejected] if isinstance(rejected, str) else []
    if not any(t and "<" in t for t in texts):
        return example
    return replace(
        example,
        instruction=neutral_text(example.instruction),
        response=_neutral(example.response),
        transcript=_neutral(example.transcript),
        transcripts=[_neutral(t) for t in example.transcripts],
        messages=[_neutral_message(m) for m in example.messages],
        extra={**example.extra, "rejected": neutral_text(rejected)} if isinstance(rejected, str) else example.extra,
    )


def _has_bracket(array: pa.Array) -> np.ndarray:
    """Per value of a string column: does it hold a ``<``? (nulls: no)."""
    found = pc.match_substring(array, "<")
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _rows_with_bracket(table: pa.Table) -> np.ndarray:
    """Rows of an examples table with a ``<`` in any text ``neutral_example`` looks at (the JSON of
    ``extra`` as a whole: it holds a preference pair's rejected response)."""
    mask = np.zeros(table.num_rows, dtype=bool)
    for name in ("instruction", "response", "transcript", "extra"):
        mask |= _has_bracket(table.column(name).combine_chunks())
    transcripts = table.column("transcripts").combine_chunks()
    if len(transcripts.flatten()):
        hit = _has_bracket(transcripts.flatten())
        mask[np.asarray(pc.list_parent_indices(transcripts))[hit]] = True
    messages = table.column("messages").combine_chunks()
    content = messages.flatten().field("content")
    parts = content.flatten()
    if len(parts):
        hit = _has_bracket(parts.field("text"))
        message_of_part = np.asarray(pc.list_parent_indices(content))
        row_of_message = np.asarray(pc.list_parent_indices(messages))
        mask[row_of_message[message_of_part[hit]]] = True
    return mask


def neutral_table(table: pa.Table) -> pa.Table:
    """``neutral_example`` over a table of examples (``records.EXAMPLE_SCHEMA`` columns, then any
    others, kept as they are): the few rows with a ``<`` in their text go through
    ``neutral_example``; every other row passes through untouched, in Arrow."""
    mask = _rows_with_bracket(table)
    if not mask.any():
        return table
    rows = np.flatnonzero(mask)
    chosen = table.take(pa.array(rows))
    fixed = examples_to_arrow([neutral_example(example) for example in examples_from_arrow(chosen)])
    fixed = pa.Table.from_arrays([fixed.column(f.name) if f.name in fixed.column_names else chosen.column(f.name)
                                  for f in table.schema], schema=table.schema)
    merged = pa.concat_tables([table.filter(pa.array(~mask)), fixed])
    order = np.argsort(np.concatenate([np.flatnonzero(~mask), rows]), kind="stable")
    return merged.take(pa.array(order))
