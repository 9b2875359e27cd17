"""Records to Arrow and back: ``examples_from_arrow`` (decoded column by column) gives exactly
what ``example_from_row`` gives row by row, on the tables the release hands it: sliced, taken,
in several chunks, with columns left out, with nulls where the schema allows them."""

from __future__ import annotations

import pyarrow as pa

from speechsift.records import (
    AudioRef,
    Example,
    Generation,
    Message,
    Part,
    example_from_row,
    examples_from_arrow,
    examples_to_arrow,
)


def _examples() -> list[Example]:
    made = []
    for i in range(7):
        audios = [AudioRef(path=f"/a/{i}.wav", duration_s=1.5, offset_s=0.25 * i, channel=i % 2 or None)]
        if i % 3 == 1:  # a pair: two audios, the second embedded
            audios.append(AudioRef(bytes=b"RIFF" + bytes([i]), sampling_rate=16000))
        if i == 5:  # a text task: no audio at all
            audios = []
        messages = [Message("user", [Part.of_audio(0), Part.of_text(f"Describe clip {i}.")])] if audios else \
            [Message("user", [Part.of_text("Write a haiku.")])]
        if i % 2:
            messages.append(Message("assistant", [Part.of_text(f"Answer {i}.")]))
        made.append(Example(
            id=f"e{i}", task="sit_ssp" if audios else "text_only", clip_ids=[f"c{i}", f"d{i}"][: len(audios)],
            audios=audios, instruction=f"Describe clip {i}.", response=None if i == 4 else f"Answer {i}.",
            messages=messages, source="src", language=None if i == 6 else "en",
            meta={"emotion": "happy", "gender": "female"} if i % 2 else {"age": "27"},
            speaker_id=None if i == 3 else f"spk{i % 2}", transcript=f"words {i}" if i != 2 else None,
            duration_s=1.5 if audios else None, split="train" if i < 5 else "eval",
            generation=Generation(backend="template", model=None, temperature=None, top_p=None, max_tokens=None,
                                  seed=i, sample_index=0, llm_messages=[{"role": "user", "content": "hi"}])
            if i % 3 else None,
            transcripts=[f"t{i}"] if i == 1 else [], extra={"lineage": [i, "seed"]} if i == 0 else {},
        ))
    return made


def _by_rows(table: pa.Table) -> list[Example]:
    return [example_from_row(row) for row in table.to_pylist()]


def test_column_by_column_decoding_matches_row_by_row():
    table = examples_to_arrow(_examples())
    assert examples_from_arrow(table) == _by_rows(table)
    variants = {
        "sliced": table.slice(2, 4),
        "taken": table.take(pa.array([6, 0, 3, 3, 1])),
        "chunked": pa.concat_tables([table.slice(0, 3), table.slice(3)]),
        "columns left out": table.drop_columns(["generation", "transcripts", "extra"]),
        "empty": table.slice(0, 0),
    }
    for name, variant in variants.items():
        assert examples_from_arrow(variant) == _by_rows(variant), name


def test_null_lists_and_structs_read_as_empty():
    table = examples_to_arrow(_examples()[:3])
    meta = table.column("meta").combine_chunks()
    nulled = pa.StructArray.from_arrays(meta.flatten(), fields=list(meta.type), mask=pa.array([False, True, False]))
    table = table.set_column(table.schema.get_field_index("meta"), "meta", nulled)
    audios = table.column("audios").combine_chunks()
    table = table.set_column(table.schema.get_field_index("audios"), "audios",
                             pa.ListArray.from_arrays(audios.offsets, audios.values,
                                                      mask=pa.array([False, False, True])))
    decoded = examples_from_arrow(table)
    assert decoded[1].meta == {} and decoded[0].meta == _examples()[0].meta
    assert decoded[2].audios == [] and decoded[0].audios == _examples()[0].audios
