"""Idempotent, resumable sync against a real server that gets killed mid-way (and `down`/`up` around it).

- push: the server is SIGKILLed while a push runs; the push gives up with one line; `annotate down` stops
  exactly what `up` started (a decoy process survives); `annotate up` brings the same data back; the push
  re-run sends only what was not confirmed and ends with exactly the right records, answers intact.
- pull: the server is SIGKILLed while a pull runs and restarted while the pull retries with back-off; the
  pull finishes with exactly the right counts. A pull whose own process is killed resumes from its pages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import psutil
import pytest

from alignlab.annotation import testing
from alignlab.annotation.pull import pull
from alignlab.annotation.server import processes
from alignlab.annotation.state import Paths
from alignlab.config.annotate import AnnotateConfig
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def argilla(tmp_path_factory):
    server = testing.shared_server(tmp_path_factory.getbasetemp())
    yield server
    testing.stop_shared_server()


def write_candidates(path, n, prefix):
    rows = [{"id": f"{prefix}{i}", "prompt": f"Prompt {i}", "responses": [f"one {i}", f"two {i}"]} for i in range(n)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def cli_process(*args):
    """The real CLI as a background process (so that the test can kill things while it runs)."""
    return subprocess.Popen([sys.executable, "-c", "from alignlab.cli import main; main()", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout_s=120.0, interval_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    raise AssertionError("condition not reached in time")


def ledger_batches(argilla, dataset):
    files = list((argilla.server.state_dir / "sync").glob(f"*{dataset}*/push-ledger.jsonl"))
    return len(files[0].read_text().splitlines()) - 1 if files else 0


def test_push_killed_mid_way_resumes_after_down_and_up(argilla, cli, tmp_path):
    small = write_candidates(tmp_path / "first.jsonl", 100, "k")
    base = ["annotate", "push", *argilla.overrides, "dataset.name=kill-push", "annotators=[alice]"]
    assert cli(*base, f"push.path={small}").returncode == 0
    dataset = testing.dataset_of(argilla, "kill-push")
    records = testing.records_by_external_id(argilla.owner(), dataset["id"])
    alice = testing.login(argilla, "alice")
    for ext in ("k0", "k1", "k2"):
        testing.submit(alice, records[ext]["id"], {"preference": {"value": "b"}})

    big = write_candidates(tmp_path / "all.jsonl", 1500, "k")  # the first 100 again, then 1,400 new ones
    running = cli_process(*base, f"push.path={big}", "push.batch_size=50", "server.retry_max_s=2")
    wait_for(lambda: ledger_batches(argilla, "kill-push") >= 5)  # the first push + 4 batches
    pids = argilla.server.state_dir / "server" / "run"
    assert processes.kill("server", pids)  # SIGKILL: a crash, not a shutdown
    out, err = running.communicate(timeout=120)
    assert running.returncode == 1 and err.count("\n") == 1 and "no Argilla server answers" in err

    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        recorded = {name: processes.find(name, pids) for name in ("worker", "redis")}
        down = cli("annotate", "down", *argilla.overrides)
        assert down.returncode == 0 and "stopped: worker, redis" in down.stdout
        assert all(not processes.alive(p) for p in recorded.values())
        assert decoy.poll() is None and psutil.pid_exists(decoy.pid)  # not ours: untouched
    finally:
        decoy.kill()
        decoy.wait()
    up = cli("annotate", "up", *argilla.overrides)
    assert up.returncode == 0 and "healthy" in up.stdout, up.stderr

    resumed = cli(*base, f"push.path={big}", "push.batch_size=50")
    assert resumed.returncode == 0, resumed.stderr
    sent = int(resumed.stdout.split("sent ")[1].split(",")[0])
    assert 0 < sent <= 1400 - 4 * 50  # the confirmed batches were not sent again
    after = testing.records_by_external_id(argilla.owner(), dataset["id"])
    assert len(after) == 1500 and set(after) == {f"k{i}" for i in range(1500)}
    answered = {ext: r["responses"] for ext, r in after.items() if r.get("responses")}
    assert sorted(answered) == ["k0", "k1", "k2"]  # nothing already annotated was lost


def _answered_dataset(argilla, tmp_path, name, n):
    path = write_candidates(tmp_path / f"{name}.jsonl", n, name)
    config = AnnotateConfig.model_validate(argilla.config(
        dataset={"name": name, "template": "pairwise"}, annotators=["alice"], push={"path": str(path)},
        pull={"output_dir": str(tmp_path / f"{name}-out"), "page_size": 20}))
    from alignlab.annotation.push import push

    summary = push(config)
    owner = argilla.owner()
    alice = testing.user_id(owner, "alice")
    testing.seed_responses(owner, summary.dataset_id, [(f"{name}{i}", alice, {"preference": {"value": "a"}},
                                                        "submitted") for i in range(n)])
    return config


def pages_cached(argilla, name):
    return len(list((argilla.server.state_dir / "sync").glob(f"*{name}*/pull/page-*.json")))


def test_pull_survives_a_server_killed_and_restarted_mid_way(argilla, tmp_path):
    config = _answered_dataset(argilla, tmp_path, "kill-pull", 600)
    patient = config.model_copy(update={"server": config.server.model_copy(update={"retry_max_s": 300.0}),
                                        "pull": config.pull.model_copy(update={"page_size": 5})})
    result = {}
    worker = threading.Thread(target=lambda: result.update(summary=pull(patient)))
    worker.start()
    wait_for(lambda: pages_cached(argilla, "kill-pull") >= 3, interval_s=0.005)
    assert worker.is_alive()  # the kill lands mid-pull
    assert processes.kill("server", Paths.of(argilla.server).pids)
    argilla.restart()  # while the pull keeps retrying with back-off
    worker.join(timeout=300)
    summary = result["summary"]
    assert (summary.pulled, summary.written, summary.responses) == (600, 600, 600)
    assert summary.pages_fetched >= 120 and summary.pages_cached == 0  # 120 full pages (+ an empty last one)
    assert summary.retries > 0  # it waited for the restarted server with back-off
    lines = (tmp_path / "kill-pull-out" / "records.jsonl").read_text().splitlines()
    assert len(lines) == 600 and len({json.loads(line)["id"] for line in lines}) == 600
    assert pages_cached(argilla, "kill-pull") == 0  # the page cache is gone once the outputs are written


def test_pull_resumes_from_its_pages_after_the_client_dies(argilla, cli, tmp_path):
    config = _answered_dataset(argilla, tmp_path, "crash-pull", 400)
    args = ["annotate", "pull", *argilla.overrides, "dataset.name=crash-pull", "annotators=[alice]",
            f"pull.output_dir={tmp_path / 'crash-out'}", "pull.page_size=4"]
    running = cli_process(*args)
    wait_for(lambda: pages_cached(argilla, "crash-pull") >= 5, interval_s=0.005)
    running.kill()
    running.wait()
    cached = pages_cached(argilla, "crash-pull")
    assert 5 <= cached < 100
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{cached} pages from an interrupted pull" in resumed.stdout
    assert "wrote 400 pairwise records" in resumed.stdout
    assert config.dataset.name == "crash-pull"
