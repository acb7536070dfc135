"""Offline preference losses: the DPO family (one registry of variants), SimPO and ORPO.

Pure functions, tensors in and tensors out. Shapes: B pairs; every log-probability is one number per sequence,
the sum of the response tokens' log-probabilities unless a docstring says "average" (sum / number of tokens).

    out = dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps,
                   beta=0.1, loss_type="sigmoid")
    out.losses            # (B,) per-pair losses; the training loss is their (weighted) mean
    out.chosen_rewards    # (B,) implicit rewards beta * (log pi(y_c|x) - log pi_ref(y_c|x)), detached

DPO (Rafailov et al. 2023, eq. 7) with h = [log pi(y_c) - log pi_ref(y_c)] - [log pi(y_r) - log pi_ref(y_r)]:

    L_DPO = -log sigma(beta h)

Variants (`DPO_LOSSES`, picked by name when the config loads; a list of names with weights adds them up,
e.g. ["sigmoid", "sft"] with [1.0, 0.2] is RPO and ["sigmoid", "bco_pair", "sft"] is MPO):

| name         | per-pair loss                                                 | source                          |
|--------------|---------------------------------------------------------------|---------------------------------|
| sigmoid      | -(1-e) log s(beta h) - e log s(-beta h), e = label_smoothing  | DPO eq. 7; cDPO (Mitchell 2023) |
| robust       | [-(1-e) log s(beta h) + e log s(-beta h)] / (1 - 2e)         | rDPO, Chowdhury 2024 eq. 8      |
| hinge        | max(0, 1 - beta h)                                            | SLiC, Zhao 2023 eq. 1           |
| ipo          | (h/|y| - 1/(2 beta))^2, h per token (TRL's normalisation)     | IPO, Azar 2023 eq. 17           |
| exo_pair     | KL(softmax(beta h) || [1-e, e]) over {chosen, rejected}       | EXO, Ji 2024 eq. 16             |
| nca_pair     | -log s(beta c) - 1/2 log s(-beta c) - 1/2 log s(-beta r)      | NCA, Chen 2024 eq. 11           |
| bco_pair     | -log s(beta c) - log s(-beta r)                               | BCO, Jung 2024 (no delta)       |
| sppo_hard    | (c - 1/(2 beta))^2 + (r + 1/(2 beta))^2                       | SPPO, Wu 2024 eq. 4.7, P = 1/0  |
| apo_zero     | 1 - s(beta c) + s(beta r)                                     | APO, D'Oosterlinck 2024 eq. 7   |
| apo_down     | s(beta c) + 1 - s(beta (c - r))                               | APO eq. 8                       |
| discopop     | (1-m) (-log s(beta h)) + m exp(-beta h),  m = s(beta h / tau) | DiscoPOP, Lu 2024 eq. 5         |
| sigmoid_norm | -log s(beta h/|y|), log-ratios per token                      | length-normalised DPO           |
| sft          | mean negative log-likelihood per chosen token over the batch  | RPO, Pang 2024 eq. 5            |

(c, r: the chosen and rejected log-ratios log pi - log pi_ref; s: the logistic sigmoid; |y|: response tokens.)
Each matches TRL 1.16's `DPOTrainer` on the same tensors (tests/unit/losses/test_preference.py) except that
`sigmoid` honours `label_smoothing` (cDPO; TRL 1.16 ignores it there and keeps it for `robust` and `exo_pair`).
`label_smoothing` may be one number or one per pair: agreement-aware training sets e_i = 1 - agreement_i.

Reference-free objectives take *average* per-token log-probabilities (length-normalised, as their papers do):

    SimPO (Meng et al. 2024, eq. 6):  -log sigma(beta avg log pi(y_c) - beta avg log pi(y_r) - gamma)
    ORPO  (Hong et al. 2024, eq. 6-7): -avg log pi(y_c) - beta log sigma(log odds(y_c) - log odds(y_r)),
                                       odds(y) = p / (1 - p) with p = exp(avg log pi(y))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

from alignlab.registry import Registry

Tensor = torch.Tensor


class PreferenceLossOutput(NamedTuple):
    losses: Tensor  # (B,) per-pair losses, differentiable
    chosen_rewards: Tensor  # (B,) implicit rewards of the chosen responses, detached
    rejected_rewards: Tensor  # (B,) implicit rewards of the rejected responses, detached


@dataclass(frozen=True)
class PairBatch:
    """What a DPO variant sees: summed log-probs (B,), response lengths (B,) where known, hyper-parameters."""

    policy_chosen_logps: Tensor
    policy_rejected_logps: Tensor
    ref_chosen_logps: Tensor
    ref_rejected_logps: Tensor
    beta: float
    label_smoothing: Tensor  # () or (B,)
    chosen_lengths: Tensor | None = None
    rejected_lengths: Tensor | None = None
    discopop_tau: float = 0.05

    @property
    def chosen_logratios(self) -> Tensor:
        return self.policy_chosen_logps - self.ref_chosen_logps

    @property
    def rejected_logratios(self) -> Tensor:
        return self.policy_rejected_logps - self.ref_rejected_logps

    @property
    def h(self) -> Tensor:
        """The DPO log-ratio difference h (B,)."""
        return self.chosen_logratios - self.rejected_logratios

    def lengths(self) -> tuple[Tensor, Tensor]:
        if self.chosen_lengths is None or self.rejected_lengths is None:
            raise ValueError("this loss type needs chosen_lengths and rejected_lengths (response token counts)")
        return self.chosen_lengths.clamp(min=1), self.rejected_lengths.clamp(min=1)


@dataclass(frozen=True)
class LossVariant:
    """One DPO-family loss: `fn(batch) -> (B,)`, and what it reads besides the log-ratios."""

    fn: Callable[[PairBatch], Tensor]
    uses_label_smoothing: bool = False
    needs_lengths: bool = False


DPO_LOSSES: Registry[LossVariant] = Registry("DPO loss_type")
# Objectives with no reference model; they stand alone (not combined with DPO variants).
REFERENCE_FREE_LOSSES = ("simpo", "orpo")


def _sigmoid(b: PairBatch) -> Tensor:
    eps = b.label_smoothing
    return -(1 - eps) * F.logsigmoid(b.beta * b.h) - eps * F.logsigmoid(-b.beta * b.h)


def _robust(b: PairBatch) -> Tensor:
    eps = b.label_smoothing
    clean = -(1 - eps) * F.logsigmoid(b.beta * b.h)
    flipped = -eps * F.logsigmoid(-b.beta * b.h)
    return (clean - flipped) / (1 - 2 * eps)


def _hinge(b: PairBatch) -> Tensor:
    return torch.relu(1 - b.beta * b.h)


def _ipo(b: PairBatch) -> Tensor:
    chosen_lengths, rejected_lengths = b.lengths()
    per_token_h = b.chosen_logratios / chosen_lengths - b.rejected_logratios / rejected_lengths
    return (per_token_h - 1 / (2 * b.beta)) ** 2


def _exo_pair(b: PairBatch) -> Tensor:
    eps = torch.as_tensor(b.label_smoothing, dtype=b.h.dtype, device=b.h.device)
    logits = b.beta * b.h
    q_chosen, q_rejected = torch.sigmoid(logits), torch.sigmoid(-logits)
    return (q_chosen * (F.logsigmoid(logits) - torch.log1p(-eps))
            + q_rejected * (F.logsigmoid(-logits) - torch.log(eps)))


def _nca_pair(b: PairBatch) -> Tensor:
    chosen, rejected = b.beta * b.chosen_logratios, b.beta * b.rejected_logratios
    return -F.logsigmoid(chosen) - 0.5 * F.logsigmoid(-chosen) - 0.5 * F.logsigmoid(-rejected)


def _bco_pair(b: PairBatch) -> Tensor:
    return -F.logsigmoid(b.beta * b.chosen_logratios) - F.logsigmoid(-b.beta * b.rejected_logratios)


def _sppo_hard(b: PairBatch) -> Tensor:
    return (b.chosen_logratios - 0.5 / b.beta) ** 2 + (b.rejected_logratios + 0.5 / b.beta) ** 2


def _apo_zero(b: PairBatch) -> Tensor:
    return 1 - torch.sigmoid(b.beta * b.chosen_logratios) + torch.sigmoid(b.beta * b.rejected_logratios)


def _apo_down(b: PairBatch) -> Tensor:
    return torch.sigmoid(b.beta * b.chosen_logratios) + 1 - torch.sigmoid(b.beta * b.h)


def _discopop(b: PairBatch) -> Tensor:
    logits = b.beta * b.h
    modulation = torch.sigmoid(logits / b.discopop_tau)
    return -F.logsigmoid(logits) * (1 - modulation) + torch.exp(-logits) * modulation


def _sigmoid_norm(b: PairBatch) -> Tensor:
    chosen_lengths, rejected_lengths = b.lengths()
    return -F.logsigmoid(b.beta * (b.chosen_logratios / chosen_lengths - b.rejected_logratios / rejected_lengths))


def _sft(b: PairBatch) -> Tensor:
    # The batch's mean NLL per chosen token (TRL's form), the same value for every pair: a token-weighted mean
    # keeps long responses from being down-weighted per token.
    chosen_lengths, _ = b.lengths()
    nll = -b.policy_chosen_logps.sum() / chosen_lengths.sum()
    return nll.expand(b.policy_chosen_logps.shape[0])


DPO_LOSSES.register("sigmoid", LossVariant(_sigmoid, uses_label_smoothing=True))
DPO_LOSSES.register("robust", LossVariant(_robust, uses_label_smoothing=True))
DPO_LOSSES.register("hinge", LossVariant(_hinge))
DPO_LOSSES.register("ipo", LossVariant(_ipo, needs_lengths=True))
DPO_LOSSES.register("exo_pair", LossVariant(_exo_pair, uses_label_smoothing=True))
DPO_LOSSES.register("nca_pair", LossVariant(_nca_pair))
DPO_LOSSES.register("bco_pair", LossVariant(_bco_pair))
DPO_LOSSES.register("sppo_hard", LossVariant(_sppo_hard))
DPO_LOSSES.register("apo_zero", LossVariant(_apo_zero))
DPO_LOSSES.register("apo_down", LossVariant(_apo_down))
DPO_LOSSES.register("discopop", LossVariant(_discopop))
DPO_LOSSES.register("sigmoid_norm", LossVariant(_sigmoid_norm, needs_lengths=True))
DPO_LOSSES.register("sft", LossVariant(_sft, needs_lengths=True))


def loss_type_names() -> list[str]:
    """Every name a config's `loss_type` accepts: the DPO variants and the reference-free objectives."""
    return sorted([*DPO_LOSSES.names(), *REFERENCE_FREE_LOSSES])


def dpo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor, ref_chosen_logps: Tensor,
             ref_rejected_logps: Tensor, *, beta: float = 0.1, loss_type: str | Sequence[str] = "sigmoid",
             label_smoothing: float | Tensor = 0.0, loss_weights: Sequence[float] | None = None,
             chosen_lengths: Tensor | None = None, rejected_lengths: Tensor | None = None,
             discopop_tau: float = 0.05) -> PreferenceLossOutput:
    """DPO and its variants (table above): per-pair losses and the implicit rewards beta * log-ratio.

    All log-prob inputs (B,) summed over response tokens; `chosen_lengths`/`rejected_lengths` (B,) response
    token counts, needed by ipo, sigmoid_norm and sft. `loss_type` one name or several, summed with
    `loss_weights` (default 1 each). `label_smoothing` () or (B,), read by sigmoid, robust and exo_pair.
    """
    names = [loss_type] if isinstance(loss_type, str) else list(loss_type)
    weights = list(loss_weights) if loss_weights is not None else [1.0] * len(names)
    if len(weights) != len(names):
        raise ValueError(f"{len(weights)} loss_weights for {len(names)} loss types")
    batch = PairBatch(
        policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta,
        torch.as_tensor(label_smoothing, dtype=policy_chosen_logps.dtype, device=policy_chosen_logps.device),
        chosen_lengths, rejected_lengths, discopop_tau,
    )
    losses = sum(weight * DPO_LOSSES.get(name).fn(batch) for name, weight in zip(names, weights, strict=True))
    return PreferenceLossOutput(
        losses, (beta * batch.chosen_logratios).detach(), (beta * batch.rejected_logratios).detach()
    )


def simpo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor, *, beta: float = 2.0,
               gamma: float = 0.5, label_smoothing: float | Tensor = 0.0) -> PreferenceLossOutput:
    """SimPO: -(1-e) log s(beta dA - gamma) - e log s(-(beta dA - gamma)), dA the difference of the *average*
    per-token log-probs (B,) of chosen and rejected. No reference model; rewards are beta * average log-prob.
    Matches TRL's CPOTrainer with loss_type="simpo", simpo_gamma=gamma."""
    logits = beta * (policy_chosen_logps - policy_rejected_logps) - gamma
    eps = label_smoothing
    losses = -(1 - eps) * F.logsigmoid(logits) - eps * F.logsigmoid(-logits)
    return PreferenceLossOutput(losses, (beta * policy_chosen_logps).detach(), (beta * policy_rejected_logps).detach())


def log1mexp(x: Tensor) -> Tensor:
    """log(1 - exp(x)) for x < 0, stable on both sides of -log 2 (Maechler 2012)."""
    return torch.where(x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x)))


def orpo_log_odds_ratio(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor) -> Tensor:
    """log odds(y_c) - log odds(y_r) from *average* per-token log-probs (B,): log(p/(1-p)) = a - log(1 - e^a)."""
    return (policy_chosen_logps - policy_rejected_logps) - (
        log1mexp(policy_chosen_logps) - log1mexp(policy_rejected_logps)
    )


def orpo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor, *,
              beta: float = 0.1) -> PreferenceLossOutput:
    """ORPO: L_SFT + beta L_OR per pair, from *average* per-token log-probs (B,).

    L_SFT = -avg log pi(y_c) (the chosen response's mean NLL per token), L_OR = -log s(log odds ratio).
    The odds-ratio term equals TRL's ORPOTrainer.odds_ratio_loss; its NLL term averages over each pair's own
    tokens (TRL averages over the batch's tokens: equal when responses have equal lengths).
    Rewards: beta * average log-prob, as TRL logs them.
    """
    policy_chosen_logps = policy_chosen_logps.float()
    policy_rejected_logps = policy_rejected_logps.float()
    ratio_term = -F.logsigmoid(orpo_log_odds_ratio(policy_chosen_logps, policy_rejected_logps))
    losses = -policy_chosen_logps + beta * ratio_term
    return PreferenceLossOutput(losses, (beta * policy_chosen_logps).detach(), (beta * policy_rejected_logps).detach())


def preference_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor,
                    ref_chosen_logps: Tensor | None, ref_rejected_logps: Tensor | None,
                    chosen_lengths: Tensor, rejected_lengths: Tensor, *, loss_type: Sequence[str], beta: float,
                    label_smoothing: float | Tensor = 0.0, loss_weights: Sequence[float] | None = None,
                    simpo_gamma: float = 0.5, discopop_tau: float = 0.05) -> PreferenceLossOutput:
    """What a trainer calls: summed log-probs and lengths in, the configured objective out.

    `["simpo"]` and `["orpo"]` average the log-probs per token and ignore the reference; anything else is
    `dpo_loss`. The config has already checked the names (`alignlab.config.dpo`).
    """
    names = list(loss_type)
    if names == ["simpo"] or names == ["orpo"]:
        chosen_average = policy_chosen_logps / chosen_lengths.clamp(min=1)
        rejected_average = policy_rejected_logps / rejected_lengths.clamp(min=1)
        if names == ["simpo"]:
            return simpo_loss(chosen_average, rejected_average, beta=beta, gamma=simpo_gamma,
                              label_smoothing=label_smoothing)
        return orpo_loss(chosen_average, rejected_average, beta=beta)
    if ref_chosen_logps is None or ref_rejected_logps is None:
        raise ValueError(f"loss_type {names} needs reference log-probs")
    return dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=beta,
                    loss_type=names, label_smoothing=label_smoothing, loss_weights=loss_weights,
                    chosen_lengths=chosen_lengths, rejected_lengths=rejected_lengths, discopop_tau=discopop_tau)
