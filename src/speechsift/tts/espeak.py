"""The ``espeak`` backend: Debian's ``espeak-ng`` program, the zero-download default.

One ``espeak-ng --stdout`` process per utterance (the text on standard input, never parsed as
options or markup), up to ``workers`` at once. A voice is ``<language voice>[+<variant>]``
(``en-us``, ``de+f3``): both parts are checked against ``espeak-ng --voices`` before the run.
Settings: ``rate`` (words per minute, ``-s``), ``pitch`` (0-99, ``-p``), ``amplitude`` (0-200, ``-a``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from speechsift.errors import ConfigError
from speechsift.tts.base import Speech, SpeechRequest, register_tts_backend

if TYPE_CHECKING:
    from speechsift.recipe import TTSConfig, TTSVoice

PROGRAM = "espeak-ng"
INSTALL = "apt-get install espeak-ng"
TIMEOUT_S = 120.0  # one utterance; espeak-ng speaks a page in well under a second
FLAGS = {"rate": "-s", "pitch": "-p", "amplitude": "-a"}


class EspeakBackend:
    name = "espeak"
    model = None

    def __init__(self, program: str | None = None, workers: int | None = None) -> None:
        self.program = program or PROGRAM
        self.workers = workers or os.cpu_count() or 1
        self._limit: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _slots(self) -> asyncio.Semaphore:
        """The running loop's limit of ``workers`` processes, shared by every call in that loop."""
        loop = asyncio.get_running_loop()
        if self._limit is None or self._loop is not loop:
            self._loop, self._limit = loop, asyncio.Semaphore(self.workers)
        return self._limit

    def _run_listing(self, *args: str) -> str:
        path = shutil.which(self.program)
        if path is None:
            raise ConfigError(f"tts.backend: espeak needs the {self.program!r} program, which is not installed "
                              f"or not on PATH: {INSTALL} (or set tts.program).")
        return subprocess.run([path, *args], capture_output=True, text=True, check=True, timeout=60).stdout

    @cached_property
    def installed(self) -> tuple[frozenset[str], frozenset[str]]:
        """(voice names, variant names) espeak-ng knows: languages (``en-us``), voice files
        (``gmw/en-US``, ``en-US``) and variants (``f3``, ``klatt``)."""
        voices: set[str] = set()
        for line in self._run_listing("--voices").splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5:
                voices.update({fields[1].lower(), fields[4].lower(), fields[4].rsplit("/", 1)[-1].lower()})
                voices.update(m.lower() for m in re.findall(r"\(([\w-]+) \d+\)", line))
        variants = {line.split()[4].removeprefix("!v/").lower() for line in
                    self._run_listing("--voices=variant").splitlines()[1:] if len(line.split()) >= 5}
        return frozenset(voices), frozenset(variants)

    def resolve(self, voice: "TTSVoice", field: str) -> str:
        if not voice.voice:
            raise ConfigError(f"{field}: an espeak voice needs `voice`, e.g. en-us or de+f3.")
        base, _, variant = voice.voice.partition("+")
        voices, variants = self.installed
        if base.lower() not in voices:
            raise ConfigError(f"{field}: espeak-ng has no voice {base!r}; `espeak-ng --voices` lists the "
                              f"installed ones ({INSTALL} ships en, de, fr, it, es and many more).")
        if variant and variant.lower() not in variants:
            raise ConfigError(f"{field}: espeak-ng has no variant {variant!r}; `espeak-ng --voices=variant` "
                              "lists them (f1-f5 are female, m1-m7 male).")
        return voice.voice

    def command(self, request: SpeechRequest) -> list[str]:
        cmd = [self.program, "--stdout", "--stdin", "-b", "1", "-v", request.voice]
        for setting, flag in FLAGS.items():
            value = request.setting(setting)
            if value is not None:
                cmd += [flag, str(int(value))]
        return cmd

    async def asynthesize(self, requests: Sequence[SpeechRequest]) -> list[Speech]:
        limit = self._slots()

        async def one(request: SpeechRequest) -> Speech:
            async with limit:
                return await self._speak(request)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    async def _speak(self, request: SpeechRequest) -> Speech:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(request), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            return Speech(error=f"cannot run {self.program}: {exc}", error_reason="tts_failed")
        try:
            wav, err = await asyncio.wait_for(process.communicate(request.text.encode("utf-8")), TIMEOUT_S)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return Speech(error=f"{self.program} gave no audio within {TIMEOUT_S:g}s", error_reason="tts_failed")
        if process.returncode != 0 or not wav:
            why = err.decode("utf-8", "replace").strip()[:300] or f"exit status {process.returncode}"
            return Speech(error=f"{self.program} failed: {why}", error_reason="tts_failed")
        return Speech(audio=wav)


@register_tts_backend("espeak")
def _make(config: "TTSConfig") -> EspeakBackend:
    return EspeakBackend(config.program, config.workers)
