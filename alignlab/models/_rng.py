"""Seeding torch for one block without leaving global state behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def seeded_torch(seed: int | None) -> Iterator[None]:
    """Seed torch's CPU generator for the block, then give the caller back its previous RNG state.

    transformers' weight initialisers draw from the global generator, so a local `torch.Generator` cannot be
    passed in; `fork_rng` is the closest thing to no hidden global state. `None` leaves the RNG alone.
    """
    if seed is None:
        yield
        return
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
