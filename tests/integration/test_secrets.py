"""Secrets planted in the environment appear in no file alignlab writes, nor in anything it prints.

`HF_TOKEN`, `WANDB_API_KEY` and `ALIGNLAB_ARGILLA_API_KEY` get unique values; then a short reward-model
training run, an evaluation, an annotation push and pull (to the real Argilla server, authenticated by the
planted key) and a report run through the real CLI from a fresh working folder. Every file under that folder (run
directories, logs, env.json, metrics, models, eval outputs, reports, annotation state) and every file of the
server's state folder is scanned for the three values, as are stdout and stderr.

The Argilla key must live in exactly one kind of place: the server's database (which is how Argilla
authenticates it; the file is private, 0600) and the owner's private credentials file of that server.
"""

from __future__ import annotations

import json
import os
import secrets
import stat

import pytest

from alignlab.annotation import testing
from alignlab.annotation.state import Credentials, Paths
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

# Where Argilla keeps API keys by design (private files); every other file must not hold the key.
KEY_STORES = ("argilla.db", "argilla.db-wal", "argilla.db-shm", "credentials.json")


def written_files(*roots):
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if stat.S_ISREG(os.lstat(path).st_mode):  # not the Redis socket
                    yield path


def test_planted_secrets_reach_no_file_and_no_output(tmp_path_factory, monkeypatch):
    argilla = testing.shared_server(tmp_path_factory.getbasetemp())
    owner_key = Credentials(argilla.server, Paths.of(argilla.server)).owner().api_key
    planted = {"HF_TOKEN": "hf_" + secrets.token_hex(16), "WANDB_API_KEY": secrets.token_hex(20),
               "ALIGNLAB_ARGILLA_API_KEY": owner_key}
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    work = tmp_path_factory.mktemp("secrets-work")
    monkeypatch.setenv("HF_HOME", str(work / "hf-home"))  # anything a library caches is scanned too
    rows = work / "candidates.jsonl"
    rows.write_text("".join(json.dumps({"id": f"sec{i}", "prompt": f"Question {i}?", "responses": ["a", "b"]}) + "\n"
                            for i in range(3)))
    server = [o for o in argilla.overrides if not o.startswith("server.api_key_env=")]

    def run(*args):
        result = run_cli(*args, cwd=work)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    printed = run("rm", "train", "--config", str(ROOT / "configs/rm/tiny_bt.yaml"), "run.output_dir=runs",
                  "rm.output_dir=models/rm", "data.path=synthetic:keyword?n=80&seed=0&chat=1&annotators=3",
                  "train.max_steps=3", "train.batch_size=8", "train.save_steps=2")
    policy = work / "runs" / "_tiny" / "nano-seed0" / "policy"
    printed += run("eval", "run", "--suite", "xstest", "--model", str(policy), "--out", "eval", "--limit", "4",
                   "generation.max_new_tokens=4", "eval.bootstrap_resamples=100", "run.threads=1")
    printed += run("annotate", "push", *server, "server.api_key_env=ALIGNLAB_ARGILLA_API_KEY",
                   "dataset.name=secrets-test", f"push.path={rows}", "annotators=[alice]")
    printed += run("annotate", "pull", *server, "server.api_key_env=ALIGNLAB_ARGILLA_API_KEY",
                   "dataset.name=secrets-test", "annotators=[alice]")  # -> ./preference_data/annotated/
    printed += run("report", "eval", "runs/tiny_bt", "--out", "report.html", "--out", "report.md")

    for name, value in planted.items():
        assert value not in printed, f"${name} was printed"
    state = argilla.server.state_dir
    scanned, stores = 0, set()
    for path in written_files(work, state):
        data = open(path, "rb").read()
        scanned += 1
        for name, value in planted.items():
            if value.encode() in data:
                where = os.path.relpath(path, state if path.startswith(str(state)) else work)
                assert name == "ALIGNLAB_ARGILLA_API_KEY" and os.path.basename(path) in KEY_STORES, \
                    f"${name} leaked into {where}"
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, f"{where} holds a key and is not private"
                stores.add(os.path.basename(path))
    for expected in ("runs/tiny_bt/env.json", "runs/tiny_bt/config.yaml", "eval/summary.json", "report.html",
                     "preference_data/annotated/secrets-test/SOURCE.md"):
        assert (work / expected).is_file(), expected  # the scan saw what each command writes
    assert scanned > 20 and "credentials.json" in stores  # the scan does find a key where one is kept
