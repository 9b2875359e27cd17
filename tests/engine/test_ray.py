"""The Ray executor on a real Ray cluster on this machine (a head node started by the tests, loopback
only), against the local executor on the same input: the same output with a worker node killed
mid-run, a killed job resumed, OUT on an object store (moto's S3 server on 127.0.0.1), and the
faults that end a run with one paragraph."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import yaml
from factories import make_corpus, recipe_dict
from features.speech_fixtures import SKIP_REASON, espeak_available
from servers import ChatServer
from test_golden import every_family, reply, snapshot
from test_ledger import Gate
from test_object_store import KEYS, s3  # noqa: F401  (s3: moto's S3 server on 127.0.0.1, a fixture)

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.llm.ledger import Ledger
from speechsift.recipe import parse_recipe

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

CLI = [sys.executable, "-m", "speechsift.cli"]
# Ray on loopback only, on Linux too (REFERENCE.md §9; conftest.py sets it before Ray is imported); small
# object stores: the machine is shared.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
NODE = {"include_dashboard": False, "object_store_memory": 80 * 1024**2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(s3):
    """A Ray head node with 4 CPUs (a scheduling number: with 2, Ray's own workers can starve the run),
    started after moto's credentials are in the environment, so its workers have them."""
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 4, **NODE})
    ray.init(address=nodes.address, log_to_driver=False)
    assert nodes.address.startswith("127.0.0.1:")
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


def s3_uri(s3, path: str) -> str:
    """``s3://path`` on moto's server (the endpoint in the URI's query, as a user would write it)."""
    return f"s3://{path}?endpoint_override={s3[0]}&scheme=http"


def bucket(s3, name: str) -> pafs.S3FileSystem:
    """A new bucket on moto's server, and a filesystem that may delete it."""
    fs = pafs.S3FileSystem(endpoint_override=s3[0], scheme="http", access_key=KEYS["AWS_ACCESS_KEY_ID"],
                           secret_key=KEYS["AWS_SECRET_ACCESS_KEY"], region=KEYS["AWS_DEFAULT_REGION"],
                           allow_bucket_creation=True, allow_bucket_deletion=True)
    fs.create_dir(name)
    return fs


def test_every_family_matches_local_with_a_worker_node_killed_mid_run(cluster, tmp_path, monkeypatch):
    """Every task family, features, curation, splits and mix: the Ray executor's output (example ids,
    responses, splits, rejects, counts, exports) equals the local executor's, although the worker
    node running its first shards is killed under them; Ray runs them again on the head, and no
    request is sent twice."""
    from ray.util.placement_group import placement_group, remove_placement_group

    from speechsift.engine.ray import RayExecutor

    # the head's CPUs are reserved until the worker dies, so the first shards can only run on the worker
    hold = placement_group([{"CPU": 4}])
    ray.get(hold.ready(), timeout=60)
    worker = cluster.add_node(num_cpus=2, **NODE)
    raylet = worker.all_processes["raylet"][0].process
    collect = RayExecutor.collect
    busy = []

    def kill_worker_then_collect(self, spec, task):
        if not busy:
            deadline = time.monotonic() + 30
            while ray.available_resources().get("CPU", 0) > 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            busy.append(ray.available_resources().get("CPU", 0) == 0)  # the worker's CPUs run shards
            cluster.remove_node(worker, allow_graceful=False)
            remove_placement_group(hold)
        return collect(self, spec, task)

    monkeypatch.setattr(RayExecutor, "collect", kill_worker_then_collect)
    with ChatServer(reply) as server:
        local = every_family(tmp_path / "local", server.url)
        run_recipe(parse_recipe(local), progress=False)
        sent_local = len(server.requests)
        on_ray = every_family(tmp_path / "ray", server.url)
        on_ray["engine"]["executor"] = "ray"
        result = run_recipe(parse_recipe(on_ray), progress=False)
        assert len(server.requests) - sent_local == sent_local  # every request once, as the local run sent them
    assert busy == [True] and raylet.poll() is not None  # the worker node was busy when it died
    assert result.shards > 4
    want, got = snapshot(tmp_path / "local" / "out"), snapshot(tmp_path / "ray" / "out")
    for key in want:
        assert got[key] == want[key], key


def test_a_killed_job_resumes_and_an_unchanged_rerun_sends_nothing(cluster, tmp_path):
    """The driver is killed (SIGKILL) while the server holds requests: llm.concurrency (2) held for the
    whole run, the rerun on the cluster asks only what the ledger does not hold (so only the requests
    that were in flight are sent twice), and the next rerun asks nothing."""
    manifest = make_corpus(tmp_path / "corpus", n=12, seconds=0.1)
    out = tmp_path / "out"
    gate = Gate(open=2)
    env = {**os.environ, **RAY_ENV, "OPENAI_API_KEY": "k"}
    with ChatServer(gate) as server:
        recipe = tmp_path / "r.yaml"
        llm = {"backend": "openai", "model": "tiny", "api_base": server.url, "concurrency": 2}
        recipe.write_text(yaml.safe_dump(recipe_dict(manifest, out, ["sift_ssp"], llm=llm, engine={"shard_size": 2})))
        command = [*CLI, "run", str(recipe), "--no-progress", "--ray-address", cluster.address]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert gate.answered.wait(120), "the run never asked past its first two requests"
            time.sleep(1.0)  # time for a client that ignored llm.concurrency to send more
            sent = len(server.requests)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
        finally:
            gate.released.set()
        with Ledger(out / ".work" / "ledger.sqlite") as ledger:
            answered = len(ledger.keys())
        assert answered <= 2
        before = len(server.requests)
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert len(server.requests) - before == 12 - answered  # the held (in-flight) requests, and the rest
        assert 3 <= sent <= 4  # two answered, at most two more in flight: llm.concurrency 2 held
        assert len(server.requests) - 12 == sent - answered  # only what was in flight unrecorded was sent twice
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) - before == 12 - answered  # nothing sent
    assert json.loads((out / "run.json").read_text())["examples"] == {"sift_ssp": 12}


def test_output_on_an_object_store_matches_local(cluster, s3, tmp_path):
    """OUT on s3:// (moto's server): the shards (with the pairing index the tasks write) and the release
    land there, and the released rows equal a local run's."""
    manifest = make_corpus(tmp_path / "corpus", n=6, seconds=0.2)
    tasks = ["transcription", "sit_ssp", {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus"}}]
    local = run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "local", tasks, engine={"shard_size": 2})),
                       progress=False)
    fs = bucket(s3, "speech")
    remote = recipe_dict(manifest, s3_uri(s3, "speech/run"), tasks, engine={"shard_size": 2, "executor": "ray",
                                                                      "cache_dir": str(tmp_path / "cache")})
    result = run_recipe(parse_recipe(remote), progress=False)
    assert result.out_dir == "s3://speech/run" and result.examples == local.examples
    files = [i.path for i in fs.get_file_info(pafs.FileSelector("speech/run", recursive=True)) if i.type == pafs.FileType.File]
    assert any("/data/" in f and f.endswith(".parquet") for f in files) and "speech/run/run.json" in files
    assert any(f.startswith("speech/run/.work/") and "clips" in f for f in files)  # the pairing index, written by tasks

    def released(paths, read):
        return sorted((row["id"], row["response"], row["split"]) for p in paths for row in read(p).to_pylist())

    here = released(sorted((tmp_path / "local" / "data").rglob("*.parquet")), pq.read_table)
    there = released(sorted(f for f in files if "/data/" in f and f.endswith(".parquet")),
                     lambda p: pq.read_table(p, filesystem=fs))
    assert there == here and len(here) > 6


def test_a_shard_failing_on_every_try_ends_the_run_with_one_paragraph(cluster, s3, tmp_path, monkeypatch):
    """The bucket goes away after the run checked it (it stands for a bucket removed, or write access
    revoked, mid-run): the shard's task fails on each try, and the run stops naming the shard, the
    node and the object it could not write, before any of the release is written."""
    from speechsift.engine.ray import ShardFailedError
    from speechsift.storage import Storage

    fs = bucket(s3, "vanishing")
    check = Storage.check_writable

    def check_then_lose_the_bucket(self):
        check(self)
        fs.delete_dir("vanishing")

    monkeypatch.setattr(Storage, "check_writable", check_then_lose_the_bucket)
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.2)
    tasks = ["transcription", {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus"}}]
    remote = recipe_dict(manifest, s3_uri(s3, "vanishing/run"), tasks, engine={"executor": "ray", "cache_dir": str(tmp_path / "cache")})
    with pytest.raises(ShardFailedError) as failed:
        run_recipe(parse_recipe(remote), progress=False)
    message = str(failed.value)
    assert "shard 0 (4 clips items, the first 'src/c000') failed on node 127.0.0.1 after 4 tries" in message
    assert "s3://vanishing/run/.work/clips/" in message and "\n" not in message


def test_release_parts_are_ray_tasks_and_one_failing_on_every_try_is_one_paragraph(cluster, s3, tmp_path, monkeypatch):
    """The release's parts are written by Ray tasks: with the bucket gone once the decisions are
    written (it stands for write access revoked mid-release), each part's task fails on every try,
    and the run stops naming the part and the node, the release not marked finished."""
    from speechsift.engine.ray import RayExecutor, ShardFailedError

    fs = bucket(s3, "parts")
    write_parts = RayExecutor.write_parts

    def lose_the_bucket_then_write(self, jobs, workers):
        fs.delete_dir("parts")
        return write_parts(self, jobs, workers)

    monkeypatch.setattr(RayExecutor, "write_parts", lose_the_bucket_then_write)
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.2)
    remote = recipe_dict(manifest, s3_uri(s3, "parts/run"), ["transcription"],
                         engine={"executor": "ray", "cache_dir": str(tmp_path / "cache")})
    with pytest.raises(ShardFailedError) as failed:
        run_recipe(parse_recipe(remote), progress=False)
    message = str(failed.value)
    assert message.startswith("release part 0 failed on node 127.0.0.1 after 4 tries: ")
    assert "s3://parts/run/.work/release/decisions/" in message or "parts/run" in message
    assert "release is not marked finished" in message and "\n" not in message


def test_an_object_store_refusing_writes_stops_the_run_before_it_starts(cluster, s3, tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.2)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(recipe_dict(manifest, s3_uri(s3, "no-such-bucket/run"), ["transcription"],
                                                 engine={"cache_dir": str(tmp_path / "cache")})))
    run = subprocess.run([*CLI, "run", str(recipe), "--no-progress", "--ray-address", cluster.address],
                         env={**os.environ, **RAY_ENV}, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "s3://no-such-bucket/run/.work/" in run.stderr and "Traceback" not in run.stderr
    assert s3[1].get_file_info("no-such-bucket").type == pafs.FileType.NotFound  # nothing made


def test_an_unreachable_cluster_is_one_paragraph_and_exit_code_2(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.2)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(recipe_dict(manifest, tmp_path / "out", ["transcription"])))
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    run = subprocess.run([*CLI, "run", str(recipe), "--no-progress", "--ray-address", address],
                         env={**os.environ, **RAY_ENV}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert f"no Ray cluster answers at {address}" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out" / "run.json").exists()


def test_vllm_on_a_cluster_without_gpus_says_where_its_engines_go(cluster, tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.2)
    recipe = recipe_dict(manifest, tmp_path / "out", ["sift_ssp"], llm={"backend": "vllm", "model": "some/model"},
                         engine={"executor": "ray"})
    with pytest.raises(ConfigError, match="this cluster has no GPU"):
        run_recipe(parse_recipe(recipe), progress=False)


def test_vllm_engines_in_actors_on_a_gpu_node(cluster, request, tmp_path):
    """The vllm backend's engines in Ray actors, one per GPU (needs a GPU node and vLLM)."""
    pytest.importorskip("vllm", reason="vLLM is not installed (GPU machines only)")
    if not ray.cluster_resources().get("GPU"):
        pytest.skip("no GPU in this Ray cluster: the vLLM actors need one")
    tiny_model = request.getfixturevalue("tiny_model")
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.2)
    recipe = recipe_dict(manifest, tmp_path / "out", ["sift_ssp"],
                         llm={"backend": "vllm", "model": str(tiny_model), "max_tokens": 8},
                         engine={"executor": "ray"})
    result = run_recipe(parse_recipe(recipe), progress=False)
    assert result.llm_this_run["sent"] == 4


def test_speech_synthesized_on_several_machines_needs_a_shared_cache(cluster, s3, tmp_path):
    """A second machine (a node on another loopback address): speech synthesized by the shard tasks
    would stay on the machine that made it, so an object-store OUT without a shared engine.cache_dir
    stops before the first shard, naming the setting."""
    machine = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.2", **NODE)
    try:
        text = tmp_path / "instructions.jsonl"
        text.write_text(json.dumps({"instruction": "How do tides work?", "response": "The moon pulls them."}) + "\n")
        recipe = {"name": "spoken", "sources": [{"name": "dolly", "kind": "text", "path": str(text), "language": "en"}],
                  "tasks": [{"name": "spoken_instruction", "sources": ["dolly"]}], "llm": {"backend": "template"},
                  "output": {"dir": s3_uri(s3, "release/spoken")}, "engine": {"executor": "ray"}}
        with pytest.raises(ConfigError, match=r"engine.cache_dir: .* this cluster spans 2 machines"):
            run_recipe(parse_recipe(recipe), progress=False)
    finally:
        cluster.remove_node(machine)
