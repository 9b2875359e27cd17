"""The transformers backend on a tiny random model built by the test (tests/tiny_lm.py)."""

from __future__ import annotations

import json

import pytest
from factories import make_corpus, recipe_dict, release_rows

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.llm import ChatRequest, SamplingParams, generate, make_backend
from speechsift.recipe import LLMConfig, parse_recipe


def _backend(model_dir, **kw):
    return make_backend(LLMConfig(backend="transformers", model=str(model_dir), batch_size=3, **kw))


def _requests(n, seed=11, max_tokens=12):
    return [
        ChatRequest(
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello " * (1 + i % 4)}],
            sampling=SamplingParams(temperature=0.9, top_p=0.95, max_tokens=max_tokens, seed=seed),
            task="sift_s",
        )
        for i in range(n)
    ]


def test_batched_generation_is_seeded_and_counted(tiny_model):
    backend = _backend(tiny_model)
    assert backend.device == "cpu" and backend.tokenizer.padding_side == "left"
    first = generate(backend, _requests(7))
    again = generate(backend, _requests(7))
    assert [c.text for c in first] == [c.text for c in again], "same seed, same batches, same text"
    assert all(c.ok and c.finish_reason in ("stop", "length") for c in first)
    for completion in first:
        assert 0 < completion.completion_tokens <= 12
        assert completion.prompt_tokens > 5
        if completion.finish_reason == "length":
            assert completion.completion_tokens == 12
    other = generate(backend, _requests(7, seed=12))
    assert [c.text for c in other] != [c.text for c in first]


def test_prompt_uses_the_chat_template_with_thinking_off(tiny_model):
    from speechsift.llm.local_engine import render_chat

    backend = _backend(tiny_model)
    prompt = render_chat(backend.tokenizer, [{"role": "user", "content": "hi"}], backend.template_kwargs)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    thinking = render_chat(backend.tokenizer, [{"role": "user", "content": "hi"}], {})
    assert thinking.endswith("<|im_start|>assistant\n")


def test_too_long_prompt_is_a_permanent_error(tiny_model):
    backend = _backend(tiny_model, max_model_len=40)
    [completion] = generate(backend, [ChatRequest([{"role": "user", "content": "word " * 80}], SamplingParams(max_tokens=8), "x")])
    assert completion.error_reason == "context_too_long"


def test_missing_model_is_a_config_error(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(ConfigError, match="cannot load"):
        make_backend(LLMConfig(backend="transformers", model=str(tmp_path / "nothing-here")))


def test_recipe_runs_on_the_transformers_backend_and_reuses_the_ledger(tiny_model, tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=5, seconds=0.1)
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["sift_ssp", "sit_ssp"],
                       llm={"backend": "transformers", "model": str(tiny_model), "max_tokens": 10, "seed": 3, "n": 2})
    first = run_recipe(parse_recipe(data), progress=False)
    assert first.totals.examples == {"sift_ssp": 10, "sit_ssp": 10}
    assert first.llm_this_run["sent"] == 20
    rows = release_rows(out, "sift_ssp")
    assert {r["generation"]["backend"] for r in rows} == {"transformers"}
    assert sorted({r["generation"]["sample_index"] for r in rows}) == [0, 1]
    assert len({r["id"] for r in rows}) == 10
    again = run_recipe(parse_recipe(data), progress=False)
    assert again.shards_skipped == 1 and again.llm_this_run.get("sent", 0) == 0
    (out / ".work" / "shards" / "part-00000.json").unlink()  # force the shard to be redone
    redo = run_recipe(parse_recipe(data), progress=False)
    assert redo.llm_this_run["ledger_hits"] == 20 and redo.llm_this_run.get("sent", 0) == 0
    assert release_rows(out, "sift_ssp") == rows
    run = json.loads((out / "run.json").read_text())
    assert run["llm"]["ledger_hits"] == 20
