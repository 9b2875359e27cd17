"""The eval report and the compare page opened from disk in a real headless Chromium (the run
report's harness, tests/report/cdp.py): no console error, no request outside the folder, no script
(a ``<script>`` in a model's answer is shown as text), every chart lays out, every audio player
loads its file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from servers import ChatServer
from sift_tree import ITEMS, VERDICTS, write_tree
from speech_llm import Judge, SpeechLLM, file_hash

from speechsift.eval import run_eval
from speechsift.eval.cli_config import eval_config
from speechsift.eval.compare import compare_runs

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from cdp import WAIT_FOR_AUDIO, Browser, find_chromium  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium): the browser checks need it")
SCRIPT = "<script>window.__pwned = 1</script>"
INSPECT = """
({
  pwned: typeof window.__pwned, scripts: document.scripts.length, text: document.body.innerText,
  charts: [...document.querySelectorAll('svg.chart')].map(s => {
    const box = s.getBoundingClientRect();
    return {label: s.getAttribute('aria-label'), width: box.width, height: box.height,
            marks: s.querySelectorAll('rect').length};
  }),
  height: document.documentElement.scrollHeight,
})
"""


def _answers(audio, wrong: bool) -> SpeechLLM:
    answers = {}
    for _folder, _task, _lang, clip, instruction, _reference, answer in ITEMS.values():
        if answer is not None:
            answers[(file_hash(audio[clip]), instruction)] = answer
    answers[(file_hash(audio["a1"]), "Transcribe:")] = f"the cat {SCRIPT}" if wrong else "the cat sat on the mat"
    return SpeechLLM(answers)


async def _open(browser: Browser, index: Path, screenshot: Path) -> dict:
    page = await browser.new_page(width=1280, height=900)
    await page.goto(index.resolve().as_uri())
    players = await page.evaluate(WAIT_FOR_AUDIO)
    result = await page.evaluate(INSPECT)
    result["players"] = players
    await page.screenshot(screenshot, height=min(result["height"], 9000))
    folder = index.parent.resolve().as_uri() + "/"
    result["outside"] = [u for u in page.requested_urls() if not (u.startswith(folder) or u.startswith("data:"))]
    result["console"] = page.console_errors()
    result["failed"] = page.failed_requests()
    return result


def test_eval_report_and_compare_page_in_headless_chromium(tmp_path):
    data, audio = write_tree(tmp_path / "sift")
    outs = []
    for name, wrong in (("a", True), ("b", False)):
        with ChatServer(_answers(audio, wrong)) as model, ChatServer(Judge(VERDICTS)) as judge:
            config = eval_config(data, tmp_path / f"eval-{name}", None, {
                "model.api_base": model.url, "model.model": f"model-{name}", "judge.api_base": judge.url,
                "judge.model": "judge", "bootstrap_samples": 50})
            outs.append(run_eval(config, progress=False).out_dir)
    compare = compare_runs(outs, tmp_path / "compare", samples=100)
    report = outs[0] / "report" / "index.html"

    async def drive() -> dict:
        async with Browser(CHROMIUM, tmp_path / "profile") as browser:
            return {"report": await _open(browser, report, tmp_path / "eval-report.png"),
                    "compare": await _open(browser, compare, tmp_path / "compare.png")}

    pages = asyncio.run(drive())
    for name, result in pages.items():
        assert result["console"] == [] and result["failed"] == [] and result["outside"] == [], name
        assert result["pwned"] == "undefined" and result["scripts"] == 0, name
    shown = pages["report"]
    assert SCRIPT in shown["text"]
    assert {c["label"] for c in shown["charts"]} >= {"judge_score distribution", "judge_accuracy distribution"}
    assert all(c["width"] > 100 and c["height"] > 20 and c["marks"] > 0 for c in shown["charts"])
    assert len(shown["players"]) >= 10
    for player in shown["players"]:
        assert player["error"] is None and player["ready"] >= 1 and player["duration"] > 0.1, player
    assert "bad_request" in shown["text"] and "judge_unparseable" in shown["text"]  # t3 has no answer: HTTP 400
    assert "wer" in shown["text"] and "Worst items" in shown["text"]
    # compare: the second model transcribes t1 right where the first did not: one win, no loss on WER
    result = json.loads((tmp_path / "compare" / "compare.json").read_text())
    wer = result["comparisons"]["model-b"]["scopes"]["transcription"]["wer"]
    assert (wer["wins"], wer["losses"], wer["ties"]) == (1, 0, 2)
    assert wer["difference"] < 0
    assert "model-b vs model-a" in pages["compare"]["text"] and "B − A" in pages["compare"]["text"]
