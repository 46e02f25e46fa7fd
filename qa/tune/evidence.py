"""Learn the evidence ranker: a logistic model of "this sentence holds the quiz's answer" over
the sentence features (`qa.answering.evidence_rank.FEATURES`), its strength of regularisation
chosen on the held-out weeks by what the assistant needs: the answer among the evidence."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa.answering.evidence_rank import FEATURES, HAND_RANKER, SENTENCE_PASSAGES, EvidenceRanker, LinearRanker
from qa.tune.data import EvidenceExamples
from qa.tune.logit import fit_logit

STRENGTHS = (0.01, 0.1, 1.0, 10.0)  # inverse regularisation strengths tried (sklearn's C)
METHODS = ("logistic", "logit")


def answer_in_top(examples: EvidenceExamples, ranker: EvidenceRanker, n: int) -> float:
    """Share of the questions whose `n` best-scored sentences hold a gold answer."""
    if not examples.questions:
        return 0.0
    scores = ranker.score(examples.features)
    found = 0
    for q in range(len(examples.questions)):
        rows = np.flatnonzero(examples.groups == q)
        if rows.size == 0:
            continue
        # A stable sort, as the retriever's: ties keep the pool's order.
        best = rows[np.argsort(-scores[rows], kind="stable")[:n]]
        found += bool(examples.labels[best].any())
    return found / len(examples.questions)


def fit_linear(
    examples: EvidenceExamples, strength: float, method: str = "logit", seed: int = 0
) -> LinearRanker:
    """`method`: `logit` (per question, a softmax over its sentences) or `logistic` (each
    sentence alone, classes balanced); `strength`: the inverse of the L2 penalty."""
    mean = examples.features.mean(axis=0)
    scale = examples.features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (examples.features - mean) / scale
    if method == "logit":
        start = np.zeros(z.shape[1])
        penalty = 1.0 / (strength * len(examples.questions))
        weights = fit_logit(z, examples.labels, examples.groups, penalty, start)
        bias = 0.0
    else:
        model = LogisticRegression(C=strength, class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit(z, examples.labels)
        weights, bias = model.coef_[0], float(model.intercept_[0])
    return LinearRanker(
        tuple(float(w) for w in weights), tuple(float(m) for m in mean), tuple(float(s) for s in scale), bias
    )


def train_evidence_ranker(
    train: EvidenceExamples, holdout: EvidenceExamples, reads: tuple[int, ...], n_evidence: int, seed: int = 0
) -> tuple[LinearRanker, dict]:
    """Fit one model per number of passages read and strength on the training weeks; keep the
    best on the held-out weeks (the first tried wins a tie). Returns the ranker and what was
    measured (the hand rule's score on the passages it reads, as the baseline; `kept` when the
    ranker beats it)."""
    tried: dict[str, float] = {}
    best: tuple[float, int, LinearRanker] | None = None
    for read in reads:
        for method in METHODS:
            for strength in STRENGTHS:
                ranker = fit_linear(train.within(read), strength, method, seed)
                score = answer_in_top(holdout.within(read), ranker, n_evidence)
                tried[f"read {read}, {method}, C {strength}"] = round(score, 4)
                if best is None or score > best[0]:
                    best = (score, read, ranker)
    assert best is not None
    score, read, ranker = best
    hand_train, hand_held = train.within(SENTENCE_PASSAGES), holdout.within(SENTENCE_PASSAGES)
    hand_score = answer_in_top(hand_held, HAND_RANKER, n_evidence)
    train, holdout = train.within(read), holdout.within(read)
    metrics = {
        "read": read,
        "n_evidence": n_evidence,
        "train_questions": len(train.questions),
        "train_sentences": len(train.labels),
        "holdout_questions": len(holdout.questions),
        "holdout_answer_in_pool": round(answer_in_top(holdout, ranker, len(holdout.labels)), 4),
        "holdout_answer_in_evidence": {"hand": round(hand_score, 4), "learned": round(score, 4)},
        # The hand rule counts as a candidate: a ranker that does no better on held-out weeks is not kept.
        "kept": score > hand_score,
        "train_answer_in_evidence": {
            "hand": round(answer_in_top(hand_train, HAND_RANKER, n_evidence), 4),
            "learned": round(answer_in_top(train, ranker, n_evidence), 4),
        },
        "tried": tried,
        "weights": dict(zip(FEATURES, (round(w, 4) for w in ranker.weights), strict=True)),
    }  # fmt: skip
    return ranker, metrics
