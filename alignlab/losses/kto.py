"""KTO: Kahneman-Tversky optimisation from unpaired thumbs-up / thumbs-down data (Ethayarajh et al. 2024).

Pure functions. Shapes: B examples (prompt, completion, label), each log-probability summed over the
completion's tokens.

With r(x, y) = log pi(y|x) - log pi_ref(y|x) and the reference point z0, a (detached, non-negative) estimate of
KL(pi || pi_ref) from mismatched pairs (x_i, y_j), eq. 7 of the paper:

    L(x, y) = lambda_D (1 - s(beta (r(x, y) - z0)))   if y is desirable
            = lambda_U (1 - s(beta (z0 - r(x, y))))   if y is undesirable

`apo_zero_unpaired` (D'Oosterlinck et al. 2024, unpaired eq. 7) drops z0: 1 - s(beta r) for desirable,
s(beta r) for undesirable. The training loss is the mean of the per-example losses, which is TRL 1.16's
`KTOTrainer` loss on the same tensors (tests/unit/losses/test_kto.py).

    z0 = kto_kl_estimate(policy_kl_logps, ref_kl_logps)
    out = kto_loss(policy_logps, ref_logps, labels, kl=z0, beta=0.1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from alignlab.registry import Registry

Tensor = torch.Tensor


class KTOLossOutput(NamedTuple):
    losses: Tensor  # (B,) weighted per-example losses, in input order
    rewards: Tensor  # (B,) implicit rewards beta * r(x, y), detached


def kto_kl_estimate(policy_kl_logps: Tensor, ref_kl_logps: Tensor) -> Tensor:
    """z0 = max(0, mean_j [log pi(y_j|x_i) - log pi_ref(y_j|x_i)]) over mismatched pairs (B,) -> (), detached.

    The paper estimates KL(pi || pi_ref) on completions of other prompts in the batch, and does not
    back-propagate through it (section 4.1)."""
    return (policy_kl_logps - ref_kl_logps).mean().detach().clamp(min=0)


# A KTO loss type: (logratios (B,), kl (), beta) -> (desirable losses (B,), undesirable losses (B,)).
KTOLossFn = Callable[[Tensor, Tensor, float], tuple[Tensor, Tensor]]
KTO_LOSSES: Registry[KTOLossFn] = Registry("KTO loss_type")


def _kto(logratios: Tensor, kl: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    return 1 - torch.sigmoid(beta * (logratios - kl)), 1 - torch.sigmoid(beta * (kl - logratios))


def _apo_zero_unpaired(logratios: Tensor, kl: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    return 1 - torch.sigmoid(beta * logratios), torch.sigmoid(beta * logratios)


KTO_LOSSES.register("kto", _kto)
KTO_LOSSES.register("apo_zero_unpaired", _apo_zero_unpaired)
# Loss types that read z0, and so need the mismatched (KL) completions.
KTO_USES_KL = frozenset({"kto"})


def kto_loss(policy_logps: Tensor, ref_logps: Tensor, labels: Tensor, *, kl: Tensor | float = 0.0,
             beta: float = 0.1, desirable_weight: float = 1.0, undesirable_weight: float = 1.0,
             loss_type: str = "kto") -> KTOLossOutput:
    """Per-example KTO losses (eq. above) and rewards. Inputs (B,), `labels` (B,) bool (True = desirable),
    `kl` the reference point z0 (a scalar, see `kto_kl_estimate`)."""
    logratios = policy_logps - ref_logps  # (B,)
    kl = torch.as_tensor(kl, dtype=logratios.dtype, device=logratios.device)
    desirable, undesirable = KTO_LOSSES.get(loss_type)(logratios, kl, beta)
    labels = labels.to(torch.bool)
    losses = torch.where(labels, desirable_weight * desirable, undesirable_weight * undesirable)
    return KTOLossOutput(losses, (beta * logratios).detach())
