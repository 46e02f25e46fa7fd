"""Learn the candidate ranker: the weights that add the candidate features up (`rank.Weights`),
fitted to the training questions instead of set by hand.

Examples are made by the assistant itself, evidence ranker included: for every answerable
question the model is asked as it is when answering, and every short-listed candidate is judged
to the end (no early stop), so each candidate's features are exact. The fit is a conditional
logit: per question, a softmax over its candidates, rewarded for the probability it gives the
candidates that match the gold answer. Only questions with both a right and a wrong candidate
teach anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.answering.assistant import Assistant
from qa.answering.decide import Policy, contenders
from qa.answering.ground import ground
from qa.answering.question import classify
from qa.answering.rank import Weights, rank
from qa.config import Settings
from qa.eval.metrics import is_correct
from qa.eval.run import Pack, ensure_index
from qa.models.embedder import Embedder
from qa.tune.data import pack_key, stacked_groups
from qa.tune.logit import fit_logit

FEATURES = Weights.names()
PENALTIES = (0.01, 0.1, 1.0)  # L2 penalties tried on the held-out weeks


@dataclass
class CandidateExamples:
    """The short-listed candidates of each question, their features and whether each is right."""

    features: np.ndarray  # (candidates, FEATURES)
    labels: np.ndarray
    groups: np.ndarray
    questions: list[str]

    @classmethod
    def concat(cls, parts: list[CandidateExamples]) -> CandidateExamples:
        parts = [p for p in parts if p.questions]
        if not parts:
            return cls(np.zeros((0, len(FEATURES))), np.zeros(0, np.int8), np.zeros(0, int), [])
        return cls(
            np.concatenate([p.features for p in parts]), np.concatenate([p.labels for p in parts]),
            stacked_groups(parts), [q for p in parts for q in p.questions],
        )  # fmt: skip

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, features=self.features, labels=self.labels, groups=self.groups,
                 questions=np.array(self.questions, dtype=str))  # fmt: skip
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CandidateExamples:
        with np.load(path) as data:
            return cls(data["features"], data["labels"], data["groups"], [str(q) for q in data["questions"]])


def candidate_examples(pack: Pack, assistant: Assistant) -> CandidateExamples:
    """Answer every answerable question of `pack` up to the ranking, judging every candidate."""
    s = assistant.settings
    assistant.use_index(ensure_index(pack, s, assistant.embedder))
    policy = Policy.from_settings(s, "choose")
    rows, labels, groups, ids = [], [], [], []
    for q in (q for q in pack.questions if q.answerable):
        form = classify(q.question)
        retrieval = assistant.retrieve(q.question, form=form)
        if not policy.asks_model(form, retrieval):
            continue
        prompt = assistant.prompts.render("answer", question=q.question, evidence=retrieval.evidence)
        raw = "".join(assistant.generator.stream(prompt, s.max_answer_tokens, stop=["\n", "Question:"]))
        shortlist = contenders(form, retrieval, ground(raw, retrieval.sentences))
        if not shortlist.candidates:
            continue

        def exact(texts: list[str], bounds: list[float] | None, prompt: str = prompt) -> list[float]:
            return assistant.generator.score_continuations(prompt, texts)

        ranked = rank(shortlist.candidates, form, [e.text for e in retrieval.evidence], Weights(), exact)
        for c in ranked:
            rows.append([c.features[name] for name in FEATURES])
            labels.append(is_correct(c.text, q.answers))
            groups.append(len(ids))
        ids.append(q.id)
    return CandidateExamples(
        np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES)), np.array(labels, dtype=np.int8),
        np.array(groups, dtype=int), ids,
    )  # fmt: skip


def cached_candidate_examples(
    packs: list[Pack], settings: Settings, tuned: str, cache: Path
) -> CandidateExamples:
    """`candidate_examples` of each pack, read from `cache` when a run already made them.
    `tuned`: the folder whose evidence ranker retrieves (or `off`)."""
    cache.mkdir(parents=True, exist_ok=True)
    assistant: Assistant | None = None
    parts = []
    for pack in tqdm(packs, desc="candidate examples", unit="week"):
        path = cache / f"candidates-{pack_key(pack)}.npz"
        if not path.is_file():
            if assistant is None:
                first = ensure_index(pack, settings, Embedder.from_settings(settings))
                chosen = settings.replace(index=first, tuned=tuned, answer_mode="choose")
                assistant = Assistant(settings=chosen)
            candidate_examples(pack, assistant).save(path)
        parts.append(CandidateExamples.load(path))
    return CandidateExamples.concat(parts)


def fit_weights(examples: CandidateExamples, penalty: float) -> Weights:
    """The conditional logit's weights, from the hand-set ones."""
    start = np.array([getattr(Weights(), name) for name in FEATURES], dtype=float)
    found = fit_logit(examples.features, examples.labels, examples.groups, penalty, start)
    return Weights(**{name: round(float(v), 4) for name, v in zip(FEATURES, found, strict=True)})


def top_right(examples: CandidateExamples, weights: Weights) -> float:
    """Share of the questions whose best-scored candidate is right (ties: the first listed)."""
    if not examples.questions:
        return 0.0
    w = np.array([getattr(weights, name) for name in FEATURES])
    scores = examples.features @ w
    right = 0
    for g in range(len(examples.questions)):
        rows = np.flatnonzero(examples.groups == g)
        if rows.size:
            right += bool(examples.labels[rows[np.argmax(scores[rows])]])
    return right / len(examples.questions)


def train_candidate_ranker(train: CandidateExamples, holdout: CandidateExamples) -> tuple[Weights, dict]:
    """Fit the weights at each penalty; keep the best on the held-out weeks. Returns them and
    what was measured (`kept` when they choose better than the hand-set weights held out)."""
    tried, best = {}, None
    for penalty in PENALTIES:
        weights = fit_weights(train, penalty)
        score = top_right(holdout, weights)
        tried[str(penalty)] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, weights)
    assert best is not None
    hand = Weights()
    hand_score = top_right(holdout, hand)
    metrics = {
        "train_questions": len(train.questions),
        "holdout_questions": len(holdout.questions),
        "holdout_best_is_right": {"hand": round(hand_score, 4), "learned": round(best[0], 4)},
        # The hand weights count as a candidate: weights that do no better held out are not kept.
        "kept": best[0] > hand_score,
        "train_best_is_right": {
            "hand": round(top_right(train, hand), 4),
            "learned": round(top_right(train, best[1]), 4),
        },  # fmt: skip
        "holdout_some_right": round(
            float(np.mean([holdout.labels[holdout.groups == g].any() for g in range(len(holdout.questions))]))
            if holdout.questions
            else 0.0,
            4,
        ),  # fmt: skip
        "penalties": tried,
        "weights": {name: getattr(best[1], name) for name in FEATURES},
    }
    return best[1], metrics


def save_weights(weights: Weights, path: Path, **card: object) -> None:
    data = {"kind": "weights", "weights": {name: getattr(weights, name) for name in FEATURES}, **card}
    Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
