"""Seeding: python, numpy and (when it is imported) torch, from one seed passed in by the caller."""

from __future__ import annotations

import random
import sys


def seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # numpy is a dependency; guard only for minimal installs
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
