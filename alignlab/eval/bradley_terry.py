"""Bradley-Terry strengths from pairwise battles, fitted with scikit-learn's logistic regression (Arena-Hard style).

    battles = [Battle("candidate", "baseline", 1.0, prompt="p1"), Battle("baseline", "candidate", 0.5, ...)]
    fit = fit_bradley_terry(battles, anchor="baseline")
    fit.strengths["candidate"], fit.win_rate("candidate", "baseline"), fit.position_bias

Model (Bradley & Terry 1952): P(i beats j) = sigmoid(beta_i - beta_j + gamma * first), where `first` is +1 when i
was shown in the first position. Each battle is one row of a logistic regression with features e_i - e_j (the
anchor's column dropped, so beta_anchor = 0), the label "first player won", and an intercept gamma that absorbs
the judge's position bias. A tie is two half-weighted rows, one won by each side (as Arena-Hard does). The fit
is unpenalised (`C=inf`). For two players judged in both orders it has a closed form: with W1 and W2 the share
won by the answer shown first in each order, beta = (logit W1 - logit W2) / 2 and gamma = (logit W1 + logit W2)
/ 2. A judge without position bias (a reward model gives the same verdict in both orders) makes the win rate
sigmoid(beta) equal to the win share (wins + ties / 2) / battles; a biased judge's first-position advantage goes
into gamma instead of the win rate.

`bootstrap_win_rate` resamples prompts (both orders of a prompt stay together) and refits, giving the percentile
interval of the win rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Battle:
    """`first` vs `second`: outcome 1.0 if `first` won, 0.0 if `second` won, 0.5 for a tie."""

    first: str
    second: str
    outcome: float
    prompt: str = ""


@dataclass(frozen=True)
class BradleyTerryFit:
    strengths: dict[str, float]
    position_bias: float
    n_battles: int

    def win_rate(self, player: str, opponent: str) -> float:
        """P(player beats opponent) with position bias averaged out."""
        difference = self.strengths[player] - self.strengths[opponent]
        return 1.0 / (1.0 + math.exp(-min(max(difference, -700.0), 700.0)))


def _features(battle: Battle, players: list[str]) -> tuple[float, ...]:
    """e_first - e_second over the non-anchor players (the anchor has no column: its strength is 0)."""
    return tuple(float(battle.first == p) - float(battle.second == p) for p in players)


def _design(battles: Sequence[Battle], players: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, labels, weights = [], [], []
    for battle in battles:
        x = np.asarray(_features(battle, players))
        for label, weight in ((1, battle.outcome), (0, 1.0 - battle.outcome)):
            if weight > 0:
                rows.append(x)
                labels.append(label)
                weights.append(weight)
    x, y, w = np.asarray(rows), np.asarray(labels), np.asarray(weights)
    # Identical rows add up: the fit sees one row per distinct (features, label) with the summed weight.
    keys, inverse = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=w, minlength=len(keys))
    return keys[:, :-1], keys[:, -1].astype(int), summed


def fit_bradley_terry(battles: Sequence[Battle], anchor: str) -> BradleyTerryFit:
    """Unpenalised logistic-regression fit; strengths in natural-log odds with `anchor` at 0."""
    from sklearn.linear_model import LogisticRegression

    players = sorted(({b.first for b in battles} | {b.second for b in battles}) - {anchor})
    if not battles or not players:
        raise ValueError("need at least one battle between two players")
    x, y, w = _design(battles, players)
    # Two feature-less rows of negligible weight, one per label: a judge that always picks the first position
    # (every label 1) leaves one class, which logistic regression refuses; these rows touch only the intercept.
    x = np.vstack([x, np.zeros((2, len(players)))])
    y = np.concatenate([y, [0, 1]])
    w = np.concatenate([w, [1e-9, 1e-9]])
    model = LogisticRegression(C=np.inf, fit_intercept=True, solver="lbfgs", max_iter=1000, tol=1e-8)
    model.fit(x, y, sample_weight=w)
    strengths = {anchor: 0.0, **{p: float(c) for p, c in zip(players, model.coef_[0], strict=True)}}
    return BradleyTerryFit(strengths, float(model.intercept_[0]), len(battles))


def bootstrap_win_rate(battles: Sequence[Battle], player: str, anchor: str, *, n_resamples: int = 1000,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(win rate, low, high): the point estimate from the scikit-learn fit, the interval from refits on
    prompts resampled with replacement (both orders of a prompt stay together). The refits solve the same
    weighted logistic regression for all resamples at once by Newton's method (`_newton_fits`; a test checks
    it against scikit-learn), since a thousand scikit-learn fits take tens of seconds on a small CPU."""
    players = sorted(({b.first for b in battles} | {b.second for b in battles}) - {anchor})
    value = fit_bradley_terry(battles, anchor).win_rate(player, anchor)
    prompts = sorted({b.prompt for b in battles})
    features = [_features(b, players) for b in battles]
    rows = {f: i for i, f in enumerate(sorted(set(features)))}
    per_prompt = np.zeros((len(prompts), 2 * len(rows)))  # weight of (row, first won), then (row, second won)
    prompt_index = {prompt: i for i, prompt in enumerate(prompts)}
    for battle, feature in zip(battles, features, strict=True):
        per_prompt[prompt_index[battle.prompt], rows[feature]] += battle.outcome
        per_prompt[prompt_index[battle.prompt], len(rows) + rows[feature]] += 1.0 - battle.outcome
    x = np.asarray(sorted(rows), dtype=float).reshape(len(rows), len(players))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(prompts), size=(n_resamples, len(prompts)))
    counts = np.stack([np.bincount(row, minlength=len(prompts)) for row in picks])  # (R, P)
    weights = counts @ per_prompt  # (R, 2m)
    theta = _newton_fits(np.vstack([x, x]), np.r_[np.ones(len(rows)), np.zeros(len(rows))], weights)
    strength = theta[:, 1 + players.index(player)]
    rates = 1.0 / (1.0 + np.exp(-strength))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(rates, [alpha, 1.0 - alpha])
    return value, float(low), float(high)


def _newton_fits(x: np.ndarray, y: np.ndarray, weights: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Weighted logistic regressions with intercept, one per row of `weights` (R, n), by Newton's method.

    Returns (R, 1 + d): intercept then coefficients. A tiny ridge keeps separable resamples (one side won
    everything) finite; their strengths are clipped at +-30 (a win rate within 1e-13 of 0 or 1)."""
    design = np.column_stack([np.ones(len(x)), x])  # (n, 1 + d)
    theta = np.zeros((weights.shape[0], design.shape[1]))
    ridge = 1e-8 * np.eye(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(theta @ design.T)))  # (R, n)
        gradient = (weights * (y - p)) @ design  # (R, 1 + d)
        curvature = np.einsum("rn,ni,nj->rij", weights * p * (1 - p), design, design) + ridge
        step = np.linalg.solve(curvature, gradient[..., None])[..., 0]
        theta = np.clip(theta + step, -30.0, 30.0)
        if np.abs(step).max() < 1e-10:
            break
    return theta
