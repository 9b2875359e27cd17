"""The report opened from disk in a real headless Chromium, driven over the DevTools protocol.

Checks what only a browser can: the page loads with no console error and no request outside the
report folder, every chart lays out, every audio element loads and decodes its file, and a
``<script>`` inside a transcript is shown as text and never runs. Leaves screenshots under the test's
tmp dir and copies them to /tmp/report-screenshot.png (and ...-quality.png) for a person to look at.

Needs Debian's ``chromium`` package (or SPEECHSIFT_CHROMIUM pointing at a Chrome binary); skipped,
with that reason, where none is installed.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from cdp import WAIT_FOR_AUDIO, Browser, find_chromium
from report_outputs import SCRIPT, add_quality

from speechsift.report import build_report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium): the browser checks need it"
)
SCREENSHOT = Path("/tmp/report-screenshot.png")

LAYOUT = """
({
  pwned: typeof window.__pwned,
  scriptElements: document.scripts.length,
  bodyText: document.body.innerText,
  boldBold: [...document.querySelectorAll('b')].filter(b => b.textContent === 'bold').length,
  charts: [...document.querySelectorAll('svg.chart')].map(s => {
    const box = s.getBoundingClientRect();
    return {label: s.getAttribute('aria-label'), width: box.width, height: box.height,
            marks: s.querySelectorAll('rect,circle').length};
  }),
  images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
  samplesTop: Math.round(document.getElementById('samples').getBoundingClientRect().top + window.scrollY),
  height: document.documentElement.scrollHeight,
})
"""


async def _check_page(browser: Browser, index: Path, screenshot: Path) -> dict:
    page = await browser.new_page(width=1280, height=900)
    await page.goto(index.resolve().as_uri())
    players = await page.evaluate(WAIT_FOR_AUDIO)
    # play one clip for real: decoding the whole file, not only its header
    played = await page.evaluate(
        """(async () => {
      const a = document.querySelector('audio'); if (!a) return null;
      a.muted = true;
      try { await a.play(); } catch (e) { return 'play failed: ' + e; }
      await new Promise(done => { a.addEventListener('ended', done, {once: true}); setTimeout(done, 10000); });
      return {ended: a.ended, error: a.error ? a.error.code : null, time: a.currentTime};
    })()""",
        user_gesture=True,
    )
    layout = await page.evaluate(LAYOUT)
    # the page's top (summary to the start of the sample browser) and the first sample cards
    await page.screenshot(screenshot, height=min(layout["samplesTop"] + 1400, 16000))
    return {"page": page, "players": players, "played": played, "layout": layout}


def _assert_page(result: dict, report_dir: Path) -> None:
    page, players, layout = result["page"], result["players"], result["layout"]
    assert page.console_errors() == []
    assert page.failed_requests() == []
    outside = [
        u
        for u in page.requested_urls()
        if not (u.startswith(report_dir.resolve().as_uri() + "/") or u.startswith("data:"))
    ]
    assert outside == [], "the page requested something outside its folder"
    assert layout["pwned"] == "undefined" and layout["scriptElements"] == 0
    assert SCRIPT in layout["bodyText"] and "<b>bold</b>" in layout["bodyText"]
    assert layout["boldBold"] == 0
    assert layout["images"] == [] or all(i["ok"] for i in layout["images"])
    assert layout["charts"], "no charts"
    for chart in layout["charts"]:
        assert chart["width"] > 100 and chart["height"] > 20 and chart["marks"] > 0, chart
    assert players, "no audio players"
    for player in players:
        assert player["error"] is None and player["ready"] >= 1, player
        assert player["duration"] > 0.1, player
        assert (report_dir / player["src"]).is_file()
    played = result["played"]
    assert isinstance(played, dict) and played["error"] is None and played["ended"], played


def test_report_in_headless_chromium(run_output, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(run_output, plain)
    curated = tmp_path / "curated"
    shutil.copytree(run_output, curated)
    add_quality(curated, embedding_dim=8)
    reports = {name: build_report(out) for name, out in (("plain", plain), ("curated", curated))}

    async def drive() -> dict:
        async with Browser(CHROMIUM, tmp_path / "profile") as browser:
            return {
                name: await _check_page(browser, index, tmp_path / f"report-{name}.png")
                for name, index in reports.items()
            }

    results = asyncio.run(drive())
    shutil.copyfile(tmp_path / "report-plain.png", SCREENSHOT)
    shutil.copyfile(tmp_path / "report-curated.png", SCREENSHOT.with_name("report-screenshot-quality.png"))
    for name, result in results.items():
        _assert_page(result, reports[name].parent)
    labels = {c["label"] for c in results["curated"]["layout"]["charts"]}
    assert {"domains per task", "quality.readability_flesch", "response map", "clip durations", "stages"} <= labels
