"""OUT on an object store (``s3://bucket/prefix``, through ``pyarrow.fs``) against moto's S3 server
on 127.0.0.1, which stands for S3 or any S3-compatible store. The LLM is a real HTTP server on
127.0.0.1 standing for an OpenAI-compatible server.

The same recipe (features, a pair task over the clip index, held-out splits) written to a local
folder and to the bucket gives the same release; a rerun reuses every shard; a machine that lost
its local state (the ledger) resumes from the ledger's copy beside OUT and asks nothing again; a
bucket that is not there stops the run at once with one paragraph naming it, exit code 2.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import yaml
from factories import make_corpus, recipe_dict
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.engine.release import recurate
from speechsift.recipe import parse_recipe

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server on 127.0.0.1 with one bucket; yields (endpoint, filesystem)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"{host}:{port}"
    fs = pafs.S3FileSystem(endpoint_override=endpoint, scheme="http", access_key=KEYS["AWS_ACCESS_KEY_ID"],
                           secret_key=KEYS["AWS_SECRET_ACCESS_KEY"], region="us-east-1", allow_bucket_creation=True)
    fs.create_dir("release")
    saved = {key: os.environ.get(key) for key in KEYS}
    os.environ.update(KEYS)
    yield endpoint, fs
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


def _recipe(tmp_path, out: str, url: str) -> dict:
    manifest = tmp_path / "corpus" / "manifest.csv"
    if not manifest.exists():
        make_corpus(tmp_path / "corpus", n=8)
    data = recipe_dict(manifest, tmp_path / "unused", ["transcription", "sit_ssp", "comparison_template"],
                       features=["duration", "loudness"], splits={"eval": {"per_cell": 1}},
                       llm={"backend": "openai", "model": "tiny", "api_base": url})
    data["output"] = {"dir": out, "formats": ["parquet", "sift_jsonl", "messages"]}
    data["engine"].update(shard_size=4, workers=1, cache_dir=str(tmp_path / "cache" / out.split("/")[-1]))
    return data


def _uri(endpoint: str, prefix: str) -> str:
    return f"s3://release/{prefix}?endpoint_override={endpoint}&scheme=http"


def _local_release(root) -> dict:
    """Every data row (audio bytes included), every export line and the rejects of a local release."""
    release = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".work" not in p.parts):
        name = path.relative_to(root).as_posix()
        if name.endswith(".parquet"):
            release[name] = pq.read_table(path).to_pylist()
        elif name.endswith(".jsonl"):
            release[name] = path.read_text().splitlines()
    return release


def _s3_release(fs, root: str) -> dict:
    release = {}
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        name = info.path[len(root) + 1:]
        if info.type != pafs.FileType.File or name.startswith(".work/"):
            continue
        if name.endswith(".parquet"):
            release[name] = pq.read_table(fs.open_input_file(info.path)).to_pylist()
        elif name.endswith(".jsonl"):
            release[name] = fs.open_input_stream(info.path).read().decode().splitlines()
    return dict(sorted(release.items()))


def test_a_release_on_s3_equals_the_local_one_and_resumes_from_there(tmp_path, s3):
    endpoint, fs = s3
    with ChatServer() as server:
        local = run_recipe(parse_recipe(_recipe(tmp_path, str(tmp_path / "local"), server.url)), progress=False)
        remote_recipe = parse_recipe(_recipe(tmp_path, _uri(endpoint, "run"), server.url))
        remote = run_recipe(remote_recipe, progress=False)
        assert remote.out_dir == "s3://release/run"
        assert remote.examples == local.examples and remote.examples["comparison_template"] > 0
        assert {split for _, split in remote.assembly.examples} == {"train", "eval"}
        release = _s3_release(fs, "release/run")
        assert release == _local_release(tmp_path / "local"), "the same rows, bytes and lines"
        assert any(name.startswith("data/") for name in release) and "rejects.jsonl" in release
        card = fs.open_input_stream("release/run/README.md").read().decode()
        assert "comparison_template" in card
        run = json.loads(fs.open_input_stream("release/run/run.json").read())
        assert run["release_fingerprint"] and run["examples"] == dict(sorted(local.examples.items()))

        asked = len(server.requests)
        again = run_recipe(remote_recipe, progress=False)
        assert again.shards_skipped == again.shards and len(server.requests) == asked
        assert json.loads(fs.open_input_stream("release/run/run.json").read())["release_reused"] is True

        # another machine: no local state (ledger, lock) and one shard to redo; the ledger's copy
        # beside OUT answers every request of that shard
        shutil.rmtree(tmp_path / "cache")
        fs.delete_file("release/run/.work/shards/part-00001.json")
        resumed = run_recipe(remote_recipe, progress=False)
        assert resumed.shards_skipped == resumed.shards - 1
        assert len(server.requests) == asked and resumed.llm_this_run["ledger_hits"] > 0
        assert _s3_release(fs, "release/run") == release

        # re-split the release where it lies, asking nothing
        data = _recipe(tmp_path, _uri(endpoint, "run"), server.url)
        data["splits"] = {"eval": {"per_cell": 2}}
        (tmp_path / "resplit.yaml").write_text(yaml.safe_dump(data))
        resplit = recurate(_uri(endpoint, "run"), tmp_path / "resplit.yaml", report=False)
        assert len(server.requests) == asked and resplit.assembly.splits != remote.assembly.splits
        assert json.loads(fs.open_input_stream("release/run/run.json").read())["recipe"]["splits"]["eval"]["per_cell"] == 2


def test_a_bucket_that_is_not_there_stops_the_run_with_one_paragraph(tmp_path, s3):
    endpoint, _ = s3
    data = _recipe(tmp_path, _uri(endpoint, "run").replace("s3://release/", "s3://no-such-bucket/"),
                   "http://127.0.0.1:9/v1")
    data["llm"] = {"backend": "template"}
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(data))
    done = subprocess.run([sys.executable, "-m", "speechsift.cli", "run", str(recipe), "--no-progress"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **KEYS, "COLUMNS": "300"})
    assert done.returncode == 2, done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "storage error" in said and "s3://no-such-bucket/run/.work/.write-check" in said
    assert "NO_SUCH_BUCKET" in said and "Traceback" not in said
