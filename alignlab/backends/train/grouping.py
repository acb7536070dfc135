"""Length grouping: a batch's rows split into groups of similar length, each padded only to its own longest row.

Used by the DPO/KTO forwards (`alignlab.backends.train.preference`) and by the prompt-shared rows
(`alignlab.backends.train.prefix_sharing`): the batch, and so the gradient, is unchanged; only padding is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GROUP_OVERHEAD", "MIN_GROUP_ROWS", "length_groups"]

# A forward pass costs about this share of a group's padded tokens on top of the tokens themselves.
GROUP_OVERHEAD = 0.05
MIN_GROUP_ROWS = 4


def length_groups(lengths: Sequence[int], min_rows: int = MIN_GROUP_ROWS) -> list[list[int]]:
    """Row indices split into groups of similar length (sorted, equal counts), choosing the number of groups
    that minimises padded tokens plus a per-forward overhead. One group when splitting does not pay."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best, best_cost = [order], len(order) * max(lengths, default=0)
    for count in range(2, len(order) // min_rows + 1):
        groups = [order[len(order) * k // count:len(order) * (k + 1) // count] for k in range(count)]
        cost = sum(len(g) * lengths[g[-1]] for g in groups) * (1 + GROUP_OVERHEAD * (count - 1))
        if cost < best_cost:
            best, best_cost = groups, cost
    return best
