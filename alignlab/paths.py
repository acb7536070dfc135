"""Where shipped data, configs and default outputs live.

alignlab is installed editable from its repository (`pip install -e .`), so shipped data sits beside the
package: `preference_data/`, `configs/`, `reward_models/`. `ALIGNLAB_HOME` points elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    home = os.environ.get("ALIGNLAB_HOME")
    return Path(home) if home else Path(__file__).resolve().parents[1]


def preference_data_dir() -> Path:
    return project_root() / "preference_data"


def configs_dir() -> Path:
    return project_root() / "configs"


def tiny_corpus_files() -> list[Path]:
    """The shipped pretraining text (TinyStories excerpt) used to train tiny tokenizers and models."""
    return sorted((preference_data_dir() / "tiny_corpus").glob("*.txt"))
