"""Where shipped data, configs and default outputs live, in a checkout and in an installed wheel.

The shipped folders (`configs/`, `eval_data/`, `preference_data/`, `reward_models/`, `data/`, `examples/`) sit
at the top of the repository, so developers edit them where they are. Building a wheel or sdist copies them into
the package as `alignlab/_shipped/<folder>/` (setup.py's `build_py`), so an installed alignlab finds them through
`importlib.resources`, not through a checkout. The data root is, in order:

1. `ALIGNLAB_HOME`, when set: a folder holding the same top-level folders (a copy you edit, or a checkout);
2. the checkout this package was imported from (an editable install: `pip install -e .`);
3. the copy inside the installed package.

`shipped_path("configs/eval/standard.yaml")` turns a path as written in the README or a shipped config into a
file that exists: the path itself when it exists (relative to the working directory), else the same path under
the data root. Outputs (`runs/`, exports) never go into an installed package: `output_root()` is the checkout
when there is one, else the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

SHIPPED_FOLDERS = ("configs", "eval_data", "preference_data", "reward_models", "data", "examples")
PACKAGED_DIR = "_shipped"  # alignlab/_shipped/<folder> inside a wheel


def checkout_root() -> Path | None:
    """The repository this package was imported from, or None for an installed wheel."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "configs").is_dir() and (root / "eval_data").is_dir() else None


def packaged_root() -> Path:
    """The shipped folders inside the installed package (present in a wheel, absent in a checkout)."""
    from importlib.resources import files

    return Path(str(files("alignlab") / PACKAGED_DIR))


def project_root() -> Path:
    """The root that holds the shipped folders: `ALIGNLAB_HOME`, the checkout, or the installed copy."""
    home = os.environ.get("ALIGNLAB_HOME")
    if home:
        return Path(home).expanduser()
    return checkout_root() or packaged_root()


def output_root() -> Path:
    """Where default outputs go when a relative default names a shipped folder (never inside site-packages)."""
    home = os.environ.get("ALIGNLAB_HOME")
    if home:
        return Path(home).expanduser()
    return checkout_root() or Path.cwd()


def shipped_path(path: str | Path) -> Path:
    """`path` when it exists (or is absolute), else the same relative path under the data root when that exists."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    shipped = project_root() / path
    return shipped if shipped.exists() else path


def preference_data_dir() -> Path:
    return project_root() / "preference_data"


def eval_data_dir() -> Path:
    """The shipped evaluation data (suites' items, judges' weights, the dialect classifier)."""
    return project_root() / "eval_data"


def configs_dir() -> Path:
    return project_root() / "configs"


def tiny_corpus_files() -> list[Path]:
    """The shipped pretraining text (TinyStories excerpt) used to train tiny tokenizers and models."""
    return sorted((preference_data_dir() / "tiny_corpus").glob("*.txt"))
