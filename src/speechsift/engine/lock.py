"""The output folder's lock: one run at a time writes an output folder.

Two runs on one ``OUT`` would ask the LLM twice and write a release that mixes both recipes. A run
(and ``speechsift curate``) holds ``OUT/.work/lock`` for as long as it writes: an exclusive
``flock`` on the file, whose content names the holder (pid, host, start time, command) for the
message the second run prints. The kernel drops a ``flock`` when its process dies, however it
dies, so a lock file left by a killed run is recognised as stale and taken over (with a warning);
a file that is only present means nothing.

Where ``flock`` is missing (Windows) the holder's pid is checked instead: a lock of this host
whose process is gone is stale.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError, OutputLockedError
from speechsift.layout import OutputLayout

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("speechsift.engine")


def unwritable_output(root: Path, exc: OSError) -> ConfigError:
    """The one-paragraph error for an output folder that cannot be written."""
    reason = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(root) else ""
    return ConfigError(
        f"{root}: the output folder cannot be written: {reason}{where}. Choose a writable folder with "
        f"`-o OUT` (or output.dir in the recipe), or make this one writable."
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: assume alive
    return True


def describe(holder: dict[str, Any]) -> str:
    """"pid 123 on host h, started 2024-05-01T10:00:00+00:00 (speechsift run r.yaml)"."""
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {holder.get('started_at', '?')}"
    return text + (f" ({holder['command']})" if holder.get("command") else "")


class OutputLock:
    """``with OutputLock(layout):`` holds the folder for the block; raises ``OutputLockedError`` when
    a live run holds it, ``ConfigError`` when the folder cannot be written."""

    def __init__(self, layout: OutputLayout, command: str | None = None) -> None:
        self.layout = layout
        self.path = layout.lock
        self.command = command if command is not None else " ".join(["speechsift", *sys.argv[1:]])
        self._fd: int | None = None

    def _holder(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": self.command,
        }

    def _read(self, fd: int) -> dict[str, Any]:
        try:
            data = os.pread(fd, 65536, 0) if hasattr(os, "pread") else self.path.read_bytes()
            holder = json.loads(data) if data.strip() else {}
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _refuse(self, holder: dict[str, Any]) -> OutputLockedError:
        return OutputLockedError(
            f"{self.layout.root} is being written by another speechsift run: {describe(holder)}. Wait for "
            f"it to finish or stop it, or write to another folder with `-o OUT`. If that run is gone (its "
            f"host is down), delete {self.path} and run again."
        )

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise unwritable_output(self.layout.root, exc) from None
        previous = self._read(fd)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise self._refuse(previous) from None
            elif previous and previous.get("host") == socket.gethostname() and _pid_alive(int(previous.get("pid", 0))):
                raise self._refuse(previous)
            if previous:
                logger.warning("taking over the lock of %s, left by a run that ended without releasing it (%s)",
                               self.layout.root, describe(previous))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(self._holder()) + "\n").encode("utf-8"))
        except OSError as exc:
            os.close(fd)
            raise unwritable_output(self.layout.root, exc) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file: nobody holds it, nothing to warn about
        except OSError:
            pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
