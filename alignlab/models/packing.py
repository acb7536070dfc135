"""Several token units per row: one forward for sequences that would each need a padded row of their own.

A unit is a short token sequence with its own position ids and, beyond causal attention, optional hidden
blocks (a DPO pair computed once per prompt hides the chosen tokens from the rejected ones). `pack_units` places
units in rows (first-fit decreasing when a `capacity` is given, one unit per row otherwise) and builds the 4-D
boolean attention mask (R, 1, T, T): block-diagonal, causal inside each unit, padding attending to itself
only. Position ids restart in every unit, so each unit sees exactly what it would see alone: its log-probs equal
a separate forward's to float rounding.

    units = [Unit(ids, list(range(len(ids)))) for ids in sequences]
    rows = pack_units(units, pad_id=0, capacity=max(map(len, sequences)))
    out = model(input_ids=rows.input_ids, attention_mask=rows.attention_mask, position_ids=rows.position_ids)
    row, offset = rows.places[i]          # where unit i starts

Whether packing pays is a question of token positions: length-grouped padded rows (`alignlab.backends.train.
grouping`) already skip most padding, and a custom mask costs a little (no causal fast path in SDPA). Measured
on this kind of CPU (benchmarks/prefix_sharing.py, `--pack`), a forward with backward breaks even near 8% fewer
positions; `packing_pays` asks for PACK_MIN_SAVING. Rows never grow past the longest unit unless asked, so
attention (quadratic in the row) never costs more than in the unpacked batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["PACK_MIN_SAVING", "PackLog", "Packed", "Unit", "pack_units", "packed_positions", "packing_pays", "place"]

logger = logging.getLogger(__name__)

# Packing must save at least this share of the token positions the length-grouped padded rows would run.
PACK_MIN_SAVING = 0.10


@dataclass(frozen=True)
class Unit:
    """Token ids and their position ids; `hidden`: (query start, query end, key start, key end) blocks of
    this unit's own indices that stay masked on top of causal attention."""

    ids: Sequence[int]
    positions: Sequence[int]
    hidden: tuple[tuple[int, int, int, int], ...] = field(default=())

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Packed:
    """input_ids, position_ids (R, T); attention_mask (R, 1, T, T) bool; places[i] = (row, offset) of unit i."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    attention_mask: torch.Tensor
    places: list[tuple[int, int]]


def place(lengths: Sequence[int], capacity: int | None) -> list[list[int]]:
    """Unit indices per row: first-fit decreasing into rows of at most `capacity` tokens (a longer unit gets a
    row of its own), or one unit per row in the given order when `capacity` is None."""
    if capacity is None:
        return [[i] for i in range(len(lengths))]
    rows: list[list[int]] = []
    used: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        for row, filled in enumerate(used):
            if filled + lengths[index] <= capacity:
                rows[row].append(index)
                used[row] += lengths[index]
                break
        else:
            rows.append([index])
            used.append(lengths[index])
    return rows


def packed_positions(lengths: Sequence[int], capacity: int | None = None) -> int:
    """Token positions the packed rows run: rows x width (width: the fullest row)."""
    if not lengths:
        return 0
    rows = place(lengths, capacity if capacity is not None else max(lengths))
    return len(rows) * max(sum(lengths[i] for i in row) for row in rows)


def packing_pays(lengths: Sequence[int], unpacked_positions: int, *,
                 min_saving: float = PACK_MIN_SAVING) -> tuple[bool, float]:
    """(pack?, saving): whether rows packed up to the longest unit run at least `min_saving` fewer positions
    than `unpacked_positions` (what the padded, usually length-grouped, rows would run)."""
    if len(lengths) < 2:
        return False, 0.0
    saving = 1.0 - packed_positions(lengths) / max(unpacked_positions, 1)
    return saving >= min_saving, saving


def pack_units(units: Sequence[Unit], pad_id: int, capacity: int | None = None) -> Packed:
    """Rows holding the units (see `place`), right-padded to the fullest row."""
    import torch  # here, not at the top: the evaluation scoring engine imports this module and loads torch late

    lengths = [len(unit) for unit in units]
    if not units or min(lengths) == 0:
        raise ValueError("every unit needs at least one token")
    rows = place(lengths, capacity)
    width = max(sum(lengths[i] for i in row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), 1, width, width), dtype=torch.bool)
    causal = torch.tril(torch.ones((max(lengths), max(lengths)), dtype=torch.bool))
    places: list[tuple[int, int]] = [(0, 0)] * len(units)
    for r, row in enumerate(rows):
        offset = 0
        for index in row:
            unit, n = units[index], lengths[index]
            span = slice(offset, offset + n)
            input_ids[r, span] = torch.as_tensor(list(unit.ids), dtype=torch.long)
            position_ids[r, span] = torch.as_tensor(list(unit.positions), dtype=torch.long)
            block = causal[:n, :n].clone()
            for q0, q1, k0, k1 in unit.hidden:
                block[q0:q1, k0:k1] = False
            mask[r, 0, span, span] = block
            places[index] = (r, offset)
            offset += n
        if offset < width:  # padding attends to itself only (an all-masked row gives NaN)
            pad = torch.arange(offset, width)
            mask[r, 0, pad, pad] = True
    return Packed(input_ids, position_ids, mask, places)


class PackLog:
    """Logs, per kind of rows, whether they are packed whenever that choice changes, with the saving that
    decided it (a run's log says which forwards it ran, without a line per step)."""

    def __init__(self) -> None:
        self.last: dict[str, bool] = {}

    def __call__(self, what: str, packed: bool, saving: float) -> None:
        if self.last.get(what) != packed:
            how = "packed several to a row" if packed else "length-grouped padded rows"
            logger.info("%s: %s (packing saves %.0f%% of token positions)", what, how, 100 * saving)
            self.last[what] = packed
