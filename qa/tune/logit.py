"""The conditional logit both rankers can be fitted with: per question, a softmax over its
items (sentences, candidates), rewarded for the probability it gives the right ones. It learns
an order within each question, which is all a ranker is asked for."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def _loss(
    weights: np.ndarray, x: np.ndarray, y: np.ndarray, groups: np.ndarray, n: int, penalty: float
) -> tuple[float, np.ndarray]:
    """Mean over questions of -log(probability of the right items), plus an L2 penalty."""
    scores = x @ weights
    top = np.full(n, -np.inf)
    np.maximum.at(top, groups, scores)
    e = np.exp(scores - top[groups])
    total, right = np.zeros(n), np.zeros(n)
    np.add.at(total, groups, e)
    np.add.at(right, groups, e * y)
    loss = -np.mean(np.log(right) - np.log(total)) + penalty * weights @ weights
    p_all = e / total[groups]
    p_right = np.where(y > 0, e / right[groups], 0.0)
    grad = (x * (p_all - p_right)[:, None]).sum(axis=0) / n + 2 * penalty * weights
    return float(loss), grad


def informative(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The items of questions with at least one right and one wrong item, questions renumbered
    0..n-1: only they say anything about the order."""
    keep = [g for g in np.unique(groups) if 0 < y[groups == g].sum() < (groups == g).sum()]
    mask = np.isin(groups, keep)
    number = {g: i for i, g in enumerate(keep)}
    return x[mask], y[mask].astype(float), np.array([number[g] for g in groups[mask]], dtype=int), len(keep)


def fit_logit(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, penalty: float, start: np.ndarray
) -> np.ndarray:
    """The weights of least penalised loss (deterministic: L-BFGS from `start`)."""
    x, y, groups, n = informative(x, y, groups)
    if n == 0:
        return start
    found = minimize(_loss, start, args=(x, y, groups, n, penalty), jac=True, method="L-BFGS-B")
    return found.x
