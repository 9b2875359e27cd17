"""A small Chrome DevTools Protocol client: headless Chromium driven over a websocket (aiohttp).

Enough for the report tests: open a page, collect console errors, exceptions and network requests,
evaluate JavaScript, take screenshots. No browser is downloaded: the system's chromium is used.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
)

# Waits until every <audio> of the page has loaded its metadata (or failed); returns each player's state.
WAIT_FOR_AUDIO = """
(async () => {
  const players = [...document.querySelectorAll('audio')];
  await Promise.all(players.map(a => (a.readyState >= 1 || a.error) ? null : new Promise(done => {
    a.addEventListener('loadedmetadata', done, {once: true});
    a.addEventListener('error', done, {once: true});
    setTimeout(done, 20000);
  })));
  return players.map(a => ({src: a.getAttribute('src'), url: a.currentSrc, ready: a.readyState,
                            error: a.error ? a.error.code : null, duration: a.duration}));
})()
"""


def find_chromium() -> str | None:
    explicit = os.environ.get("SPEECHSIFT_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class PageSession:
    """One tab: its CDP session id and the events seen on it."""

    def __init__(self, browser: Browser, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.events: list[dict[str, Any]] = []
        self.load_fired = asyncio.Event()

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        return errors

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def failed_requests(self) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e["method"] == "Network.loadingFailed"]

    async def evaluate(self, expression: str, timeout: float = 30.0, *, user_gesture: bool = False) -> Any:
        """The value of ``expression`` (promises awaited); ``user_gesture`` lets it start media playback."""
        reply = await asyncio.wait_for(
            self.send(
                "Runtime.evaluate",
                {"expression": expression, "awaitPromise": True, "returnByValue": True, "userGesture": user_gesture},
            ),
            timeout,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"evaluation failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def goto(self, url: str, timeout: float = 30.0) -> None:
        self.load_fired.clear()
        await self.send("Page.navigate", {"url": url})
        await asyncio.wait_for(self.load_fired.wait(), timeout)

    async def screenshot(self, path: Path, *, width: int = 1280, y: int = 0, height: int | None = None) -> Path:
        """A PNG of the page from ``y`` down ``height`` CSS pixels (the whole page when None)."""
        page_height = await self.evaluate("document.documentElement.scrollHeight")
        height = page_height - y if height is None else min(height, page_height - y)
        shot = await self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": y, "width": width, "height": max(height, 1), "scale": 1},
            },
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


class Browser:
    """``async with Browser(executable, profile_dir) as browser: page = await browser.new_page()``."""

    def __init__(self, executable: str, profile_dir: Path) -> None:
        self.executable = executable
        self.profile_dir = Path(profile_dir)
        self.process: subprocess.Popen | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._pages: dict[str, PageSession] = {}

    async def __aenter__(self) -> Browser:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.profile_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile_dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port, path = await self._wait_for_port(port_file)
            self._http = aiohttp.ClientSession()
            self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        except BaseException:
            if self.process.poll() is None:
                self.process.terminate()
            self._stop_process()
            if getattr(self, "_http", None) is not None:
                await self._http.close()
            raise
        self._reader = asyncio.create_task(self._read())
        return self

    async def _wait_for_port(self, port_file: Path) -> tuple[str, str]:
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.executable} exited with {self.process.returncode} before listening")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.executable} did not open its DevTools port in 30 s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        return port, path

    def _stop_process(self) -> None:
        """End the browser this object started (and only it)."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def __aexit__(self, *exc: object) -> None:
        try:
            await asyncio.wait_for(self.send("Browser.close"), 5)
        except Exception:  # noqa: BLE001 - the process is killed below either way
            pass
        self._reader.cancel()
        await self._ws.close()
        await self._http.close()
        self._stop_process()

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    if "error" in data:
                        future.set_exception(RuntimeError(f"CDP error: {data['error']}"))
                    else:
                        future.set_result(data.get("result", {}))
            elif data.get("sessionId") in self._pages:
                page = self._pages[data["sessionId"]]
                page.events.append(data)
                if data.get("method") == "Page.loadEventFired":
                    page.load_fired.set()

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        future = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 60)

    async def new_page(self, width: int = 1280, height: int = 900) -> PageSession:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = PageSession(self, attached["sessionId"])
        self._pages[page.session_id] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page
