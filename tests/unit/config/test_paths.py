"""Where shipped data is found: ALIGNLAB_HOME, the checkout, or the installed package."""

from __future__ import annotations

from pathlib import Path

from alignlab import paths


def test_checkout_is_the_root_without_alignlab_home(monkeypatch):
    monkeypatch.delenv("ALIGNLAB_HOME", raising=False)
    root = Path(paths.__file__).resolve().parents[1]
    assert paths.checkout_root() == root and paths.project_root() == root
    assert paths.output_root() == root


def test_alignlab_home_overrides_every_shipped_folder(monkeypatch, tmp_path):
    (tmp_path / "preference_data" / "tiny_corpus").mkdir(parents=True)
    (tmp_path / "preference_data" / "tiny_corpus" / "a.txt").write_text("once upon a time")
    monkeypatch.setenv("ALIGNLAB_HOME", str(tmp_path))
    assert paths.project_root() == tmp_path and paths.output_root() == tmp_path
    assert paths.tiny_corpus_files() == [tmp_path / "preference_data" / "tiny_corpus" / "a.txt"]


def test_shipped_path_prefers_the_working_directory_then_the_data_root(monkeypatch, tmp_path):
    home = tmp_path / "home"
    (home / "configs").mkdir(parents=True)
    (home / "configs" / "x.yaml").write_text("a: 1\n")
    monkeypatch.setenv("ALIGNLAB_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert paths.shipped_path("configs/x.yaml") == home / "configs" / "x.yaml"
    (work / "configs").mkdir()
    (work / "configs" / "x.yaml").write_text("a: 2\n")
    assert paths.shipped_path("configs/x.yaml") == Path("configs/x.yaml")  # the user's own copy wins
    assert paths.shipped_path("configs/missing.yaml") == Path("configs/missing.yaml")  # errors name it as given
