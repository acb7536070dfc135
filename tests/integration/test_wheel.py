"""The wheel and sdist carry everything alignlab reads at run time, found through the package.

The full check (fresh venv outside the repository, `alignlab demo`, `eval run`, `models tiny` from the
installed wheel) is `scripts/wheel_check.sh`, run by `make test`. This test builds the sdist, builds the wheel
from it, and imports the unpacked wheel from a folder outside the checkout to check what it finds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    sdist = out / name
    with tarfile.open(sdist) as archive:
        archive.extractall(out, filter="data")
    source = next(p for p in out.iterdir() if p.is_dir() and p.name.startswith("alignlab-"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(out), str(source)], check=True, capture_output=True)
    return {"sdist": sdist, "wheel": next(out.glob("alignlab-*.whl"))}


def test_sdist_carries_the_shipped_folders(built):
    with tarfile.open(built["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for path in ("setup.py", "configs/demo.yaml", "configs/eval/standard.yaml", "eval_data/bbq/bbq_subset.jsonl",
                 "preference_data/tiny_corpus/tinystories_train_head.txt", "reward_models/README.md"):
        assert path in names, path


def test_wheel_carries_every_shipped_file_and_no_local_outputs(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    shipped = {n.removeprefix("alignlab/_shipped/") for n in names if n.startswith("alignlab/_shipped/")}
    for folder in ("configs", "eval_data"):
        expected = {p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts}
        assert expected <= shipped, sorted(expected - shipped)[:5]
    assert "preference_data/hh_rlhf_harmless/train.jsonl" in shipped
    assert not [n for n in shipped if n.endswith(".safetensors") or "/exports/" in n or "/annotated/" in n]
    assert [n for n in shipped if n.startswith("reward_models/")] == ["reward_models/README.md"]


def test_installed_wheel_finds_its_data_outside_the_checkout(built, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(built["wheel"]).extractall(site)
    probe = """
import alignlab, sys
from alignlab import paths
from alignlab.config import load_config
from alignlab.config.rm import RMConfig
from alignlab.data.io import read_rows
from alignlab.eval.data import suite_file
assert alignlab.__file__.startswith(sys.argv[1]), alignlab.__file__
assert paths.checkout_root() is None and paths.project_root() == paths.packaged_root()
print(load_config("configs/rm/tiny_bt.yaml", RMConfig).run.name)
print(len(read_rows("preference_data/hh_rlhf_harmless/test.jsonl")) > 0)
print(suite_file("bbq", "bbq_subset.jsonl").is_file(), len(paths.tiny_corpus_files()))
"""
    env = {k: v for k, v in os.environ.items() if k != "ALIGNLAB_HOME"} | {"PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", probe, str(site)], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split()
    assert lines[1:] == ["True", "True", "1"] and lines[0]
