"""The output folder as a user meets it: two runs on one folder, a folder that cannot be written, a
ledger that is not one. Each ends with one paragraph naming the file and the fix, never a traceback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from factories import make_corpus, recipe_dict
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.engine.release import recurate
from speechsift.errors import OutputLockedError
from speechsift.recipe import load_recipe

HOLD = """
import sys, time
from pathlib import Path
from speechsift.layout import OutputLayout
from speechsift.engine.lock import OutputLock
lock = OutputLock(OutputLayout(Path(sys.argv[1])), command="speechsift run held.yaml")
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _recipe(tmp_path: Path, out: Path, **llm) -> Path:
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.1)
    tasks = ["transcription", "sift_ssp"] if llm else ["transcription"]
    data = recipe_dict(manifest, out, tasks, **({"llm": {"backend": "openai", "model": "tiny", **llm}} if llm else {}))
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speechsift.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def _one_paragraph(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    return " ".join(result.stderr.split())


def test_a_second_run_on_a_held_folder_refuses_and_a_killed_holder_is_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    recipe = _recipe(tmp_path, out)
    run_recipe(load_recipe(recipe), progress=False)
    written = (out / "run.json").stat().st_mtime_ns
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = _one_paragraph(_cli("run", str(recipe), "--no-progress"), 1)
        assert f"pid {holder.pid} on host {socket.gethostname()}" in refused and "held.yaml" in refused
        assert "-o OUT" in refused
        with pytest.raises(OutputLockedError, match=f"pid {holder.pid}"):
            recurate(out)
        assert (out / "run.json").stat().st_mtime_ns == written, "the refused commands wrote nothing"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the holder was killed: its lock file is still there, but nobody holds it
    assert json.loads((out / ".work" / "lock").read_text())["pid"] == holder.pid
    with caplog.at_level(logging.WARNING, logger="speechsift.engine"):
        result = run_recipe(load_recipe(recipe), progress=False)
    assert f"taking over the lock of {out}" in caplog.text and f"pid {holder.pid}" in caplog.text
    assert result.examples == {"transcription": 2}
    assert (out / ".work" / "lock").read_text() == "", "released at the end"


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made unwritable: permissions for a normal user; the immutable attribute for root,
    whom permissions do not stop."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: no way to make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_output_folder_is_one_paragraph(tmp_path):
    out = tmp_path / "out"
    recipe = _recipe(tmp_path, out)
    with read_only(out):
        message = _one_paragraph(_cli("run", str(recipe), "--no-progress"), 2)
    assert message.startswith(f"configuration error: {out}: the output folder cannot be written")
    assert "-o OUT" in message


@pytest.mark.parametrize("damage", ["not_sqlite", "damaged"])
def test_a_ledger_that_is_not_one_is_one_paragraph(tmp_path, damage):
    out = tmp_path / "out"
    with ChatServer() as server:
        recipe = _recipe(tmp_path, out, api_base=server.url)
        ledger = out / ".work" / "ledger.sqlite"
        if damage == "not_sqlite":
            ledger.parent.mkdir(parents=True)
            ledger.write_text("id,answer\n1,hello\n" * 200)
        else:  # a real ledger whose pages are overwritten past the header
            run_recipe(load_recipe(recipe), progress=False)
            for suffix in ("-wal", "-shm"):
                Path(f"{ledger}{suffix}").unlink(missing_ok=True)
            data = bytearray(ledger.read_bytes())
            data[100:] = b"\xff" * (len(data) - 100)
            ledger.write_bytes(bytes(data))
            (out / ".work" / "shards" / "part-00000.json").unlink()  # the shard must ask the ledger again
        message = _one_paragraph(_cli("run", str(recipe), "--no-progress"), 2)
    assert message.startswith(f"configuration error: {ledger}: the request ledger cannot be used")
    assert "move it aside" in message and "--no-cache" in message
