"""The text tasks' parts on their own: parsing what models write, chat templates for raw
completion, the voice-suitability screen's parsing, the preference verdict, and Magpie's raw path on
the tiny transformers model and on an OpenAI-compatible server without /v1/completions."""

from __future__ import annotations

import pytest
from servers import ChatServer

from speechsift.curate.voice import blocked_keyword, parse_yes_no
from speechsift.errors import ConfigError, Reject
from speechsift.llm import ChatRequest, SamplingParams, generate, make_backend
from speechsift.llm.chat_templates import TEMPLATES, clean_user_turn, template_for
from speechsift.llm.openai_backend import chat_only_host
from speechsift.llm.parse import ParseError
from speechsift.recipe import LLMConfig, parse_recipe
from speechsift.tasks.speechworthy import parse_preference
from speechsift.tasks.synthesis import check_evolution
from speechsift.tasks.text import instruction_lines, parse_one_instruction


def test_listed_instructions_lose_numbering_quotes_and_preambles():
    answer = ('Here are 3 new requests:\n1. "How do glaciers move?"\n2) Tell me about jazz.\n'
              "- **Why does thunder rumble?**\n\n```")
    assert instruction_lines(answer) == ["How do glaciers move?", "Tell me about jazz.", "Why does thunder rumble?"]


def test_one_instruction_is_parsed_or_rejected_with_a_reason():
    assert parse_one_instruction('#Rewritten Prompt#: "Plan a trip to Oslo."') == "Plan a trip to Oslo."
    assert parse_one_instruction("Sure! Here is the rewritten request:\nPlan a trip to Oslo.") == "Plan a trip to Oslo."
    with pytest.raises(Reject) as several:
        parse_one_instruction("1. Plan a trip.\n2. Plan a party.")
    assert several.value.reason == "several_instructions"
    with pytest.raises(Reject) as empty:
        parse_one_instruction("   \n ")
    assert empty.value.reason == "empty_response"


@pytest.mark.parametrize(("evolved", "reason"), [
    ("How do tides work?", "evolution_unchanged"),
    ("How do tides work, within 10 to 20 words of the given request?", "evolution_leak"),
    ("Tides?", "evolution_too_short"),
    ("Sorry, I cannot rewrite this request for you today.", "evolution_refused"),
])
def test_failed_evolutions_are_rejected_with_their_reason(evolved, reason):
    with pytest.raises(Reject) as rejected:
        check_evolution("How do tides work?", evolved, "deepen")
    assert rejected.value.reason == reason
    check_evolution("How do tides work?", "How do tides work on a planet with two moons, step by step?", "deepen")


def test_chat_templates_render_pre_query_prefixes_and_are_found_by_model_name():
    assert template_for("meta-llama/Meta-Llama-3.1-8B-Instruct").name == "llama3"
    assert template_for("Qwen/Qwen2.5-7B-Instruct").name == "qwen2.5"
    assert template_for("Qwen/Qwen2-7B-Instruct").name == "qwen2"
    assert template_for("Qwen/Qwen3-8B").name == "qwen3"
    assert template_for("google/gemma-2-9b-it").name == "gemma"
    assert template_for("microsoft/Phi-3-mini-4k-instruct").name == "phi3"
    assert template_for("mistralai/Mistral-7B-Instruct-v0.3").name == "mistral"
    with pytest.raises(ConfigError, match="cannot tell the chat template of model 'gpt-4o'"):
        template_for("gpt-4o")
    assert TEMPLATES["llama3"].pre_query() == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
    assert TEMPLATES["gemma"].render([("user", "Hi?"), ("assistant", "Hello.")]) == (
        "<bos><start_of_turn>user\nHi?<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\n")
    assert TEMPLATES["mistral"].pre_query() == "<s>[INST] "
    assert clean_user_turn("Why is ice slippery?<|eot_id|><|start_header_id|>assistant", TEMPLATES["llama3"]) == \
        "Why is ice slippery?"


def test_judge_answers_are_parsed_or_refused():
    assert parse_yes_no('{"suitable": "no", "reason": "needs a screen"}') == ("no", "needs a screen")
    assert parse_yes_no("Yes. Anyone could ask that aloud.") == ("yes", "Anyone could ask that aloud.")
    with pytest.raises(ParseError):
        parse_yes_no("Maybe, it depends.")
    assert parse_preference('{"choice": "b", "margin": "2", "explanation": "Shorter."}') == ("B", 2, "Shorter.")
    for bad in ('{"choice": "C", "margin": 1, "explanation": "x"}', '{"choice": "A", "margin": 5, "explanation": "x"}',
                '{"choice": "A", "margin": 1}', "A is better"):
        with pytest.raises(ParseError):
            parse_preference(bad)


def test_voice_blocklist_matches_whole_words_only():
    assert blocked_keyword("Summarize the following passage.") == "summarize"
    assert blocked_keyword("Which of these is a fruit?") == "which of these"
    assert blocked_keyword("Can you listen to my plan for the weekend?") is None  # "list" is not "listen"


def test_magpie_raw_completion_on_the_tiny_transformers_model(tiny_model, tmp_path):
    from speechsift.engine import run_recipe

    data = {
        "name": "magpie-local",
        "llm": {"backend": "transformers", "model": str(tiny_model), "max_tokens": 8, "temperature": 1.0, "seed": 3},
        "tasks": [{"name": "magpie", "options": {"count": 3, "template": "qwen3", "max_tokens": 12}}],
        "output": {"dir": str(tmp_path / "out"), "formats": ["parquet"], "report": False},
    }
    backend = make_backend(LLMConfig(backend="transformers", model=str(tiny_model)))
    prompt = TEMPLATES["qwen3"].pre_query()
    [raw] = generate(backend, [ChatRequest([], SamplingParams(max_tokens=6, seed=1), "magpie", prompt=prompt,
                                           stop=TEMPLATES["qwen3"].stop)])
    assert raw.ok and raw.prompt_tokens == len(backend.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    result = run_recipe(parse_recipe(data), progress=False)
    counts = result.totals.stages
    assert counts["task.magpie"].inputs == 3
    made = result.examples.get("magpie", 0)
    rejected = sum(s.rejected.get("empty_instruction", 0) + s.rejected.get("empty_response", 0) for s in counts.values())
    assert made + rejected == 3  # a random model's turn is kept or rejected with its reason, never lost


def test_magpie_needs_raw_completion_with_a_clear_error(tmp_path):
    from speechsift.engine import run_recipe

    assert chat_only_host("https://api.anthropic.com/v1") == "api.anthropic.com" and chat_only_host("http://127.0.0.1:8000/v1") is None
    base = {"name": "m", "tasks": [{"name": "magpie", "options": {"count": 2}}],
            "output": {"dir": str(tmp_path / "out"), "report": False}}
    with pytest.raises(ConfigError, match="hosted chat-only APIs cannot do Magpie"):
        run_recipe(parse_recipe({**base, "llm": {"backend": "openai", "model": "Qwen/Qwen2.5-7B-Instruct",
                                                 "api_base": "https://api.openai.com/v1"}}), progress=False)
    with pytest.raises(ConfigError, match="template backend writes no raw completions|cannot write it"):
        run_recipe(parse_recipe({**base, "llm": {"backend": "template"}}), progress=False)
    # a server without /v1/completions (stands for a chat-only deployment): 404 there, a clear stop
    def chat_only(body):
        return (404, {"error": {"message": "Not Found"}}) if "prompt" in body else "hello"
    with ChatServer(chat_only) as server:
        with pytest.raises(ConfigError, match="does not do raw completion .*HTTP 404"):
            run_recipe(parse_recipe({**base, "llm": {"backend": "openai", "model": "qwen2.5-7b-instruct",
                                                     "api_base": server.url}}), progress=False)


def test_speech_responses_and_preference_candidates_ask_the_same_request():
    from speechsift.tasks import TaskSettings, get_task
    from speechsift.tasks.speechworthy import candidate_request
    from speechsift.tasks.text import TextItem

    settings = TaskSettings(options={"speech_response": {"strategy": "easy"}})
    example = get_task("speech_response").build_text(TextItem("speech_response", "x/1", "x", "Why is the sky blue?"),
                                                     settings)
    [request] = example.request.requests
    twin = candidate_request("Why is the sky blue?", "easy", settings.sampling, "default", "preference_pairs")
    assert request.key("openai", "m") == twin.key("openai", "m")  # one ledger entry serves both tasks


def test_judges_that_never_answer_usably_are_asked_twice_then_rejected(tmp_path):
    """A server (standing for a judge model that ignores the format) answering every judge prompt
    with neither yes/no nor A/B: each is asked twice, then the example is a judge_unparseable reject."""
    import json

    from text_server import text_reply

    from speechsift.curate.voice import VOICE_JUDGE_SYSTEM
    from speechsift.engine import run_recipe
    from speechsift.tasks.prompts_text import PREFERENCE_JUDGE_SYSTEM

    def stubborn(body):
        system = body.get("messages", [{}])[0].get("content", "")
        if system == VOICE_JUDGE_SYSTEM and "sky" in body["messages"][-1]["content"]:
            return "Perhaps."
        if system == PREFERENCE_JUDGE_SYSTEM:
            return '{"choice": "both", "margin": 2, "explanation": "tie"}'
        return text_reply(body)

    data = {"name": "judges", "llm": {"backend": "openai", "model": "m", "api_base": None},
            "tasks": [{"name": "preference_pairs", "options": {"instructions": ["Why is the sky blue?", "How do bees fly?"],
                                                               "include_reference": False}}],
            "curate": {"voice_suitability": {"judge": True}, "dedup": "none"},
            "output": {"dir": str(tmp_path / "out"), "formats": ["parquet"], "report": False}}
    with ChatServer(stubborn) as server:
        data["llm"]["api_base"] = server.url
        run_recipe(parse_recipe(data), progress=False)
        judged = [b for b in server.requests if b["messages"][0]["content"] in (VOICE_JUDGE_SYSTEM, PREFERENCE_JUDGE_SYSTEM)]
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert sorted(r["reason"] for r in rejects) == ["judge_unparseable", "judge_unparseable"]
    assert {r["message"].split(":")[0] for r in rejects} == {
        "the voice-suitability judge answered twice without a yes or no",
        "the judge answered twice without a usable verdict"}
    sky = [b for b in judged if b["messages"][0]["content"] == VOICE_JUDGE_SYSTEM and "sky" in b["messages"][-1]["content"]]
    assert [b["temperature"] for b in sky] == [0.0, 0.7]  # the retry asks for a fresh sample
