"""Candidates scored, in one place: weighted features, and the model's likelihood of each as
the answer, read only as far as it can still change the winner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from qa.answering.candidates import Candidate
from qa.answering.question import QuestionForm
from qa.text.normalize import contains_phrase, words
from qa.text.terms import terms

# (candidate texts, bonus or None) -> the model's log-probability of each as its answer to the
# evidence prompt; with a bonus only the best bonus + log-probability must be exact
# (`Generator.score_continuations`).
Judge = Callable[[list[str], list[float] | None], list[float]]


@dataclass(frozen=True)
class Weights:
    """How the candidate features add up. Chosen on the dev and val packs together."""

    logprob: float = 0.5
    repeated: float = 2.0
    generated: float = 2.0
    fit: float = 2.0
    asked: float = 2.0
    stated: float = 3.0  # its sentence states it in the verb argument the question asks for
    # 1 / (1 + the evidence rank of its best sentence): unused by the hand-set weights.
    evidence_rank: float = 0.0
    # 1 / (1 + how many content words stand between it and the nearest word of the question, in
    # the evidence sentence where it stands nearest): unused by the hand-set weights.
    near_question: float = 0.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def rank(
    candidates: list[Candidate], form: QuestionForm, evidence: list[str], weights: Weights,
    judge: Judge | None = None,
) -> list[Candidate]:  # fmt: skip
    """Order candidates by their weighted features. A short form of a longer candidate
    ("Biden" of "Joe Biden") is the same entity: its evidence counts for the longer form, each
    sentence once, and the model judges the entity by its likeliest form (`Candidate.forms`).
    The model's likelihood, the one costly feature, comes last, told what the rest already
    gives each text so that only the winner's must be read to the end (others may show an
    upper bound)."""
    asked = form.words
    asked_terms = set(terms(form.text))
    sentence_terms = [terms(sentence) for sentence in evidence]
    texts = [words(c.text) for c in candidates]
    mentions = [
        {i for i, sentence in enumerate(evidence) if contains_phrase(sentence, c.text)} for c in candidates
    ]
    groups: list[tuple[Candidate, list[int], float]] = []
    for i, candidate in enumerate(candidates):
        if any(_is_short_form(texts[i], other) for other in texts):
            continue  # counted with its long form
        group = [j for j, other in enumerate(texts) if j == i or _is_short_form(other, texts[i])]
        candidate.features = {
            # Each sentence naming the entity counts once, by any of its forms.
            "repeated": sum(1.0 / (1 + k) for k in set().union(*(mentions[j] for j in group))),
            "generated": float(any(candidates[j].generated for j in group)),
            "fit": candidate.fit,
            "asked": -sum(t in asked for t in texts[i]) / max(1, len(texts[i])),
            "stated": float(any(candidates[j].fills_slot for j in group)),
            "evidence_rank": 1.0 / (1 + min(candidates[j].sentence for j in group)),
            "near_question": max(
                (
                    _nearness(sentence_terms[k], terms(candidates[j].text), asked_terms)
                    for j in group
                    for k in mentions[j]
                ),
                default=0.0,
            ),  # fmt: skip
        }
        rest = sum(getattr(weights, name) * value for name, value in candidate.features.items())
        groups.append((candidate, group, rest))
    if judge is not None and weights.logprob != 0:
        bonus: dict[str, float] = {}  # per text: the most the other features give a group it is in
        for _, group, rest in groups:
            for j in group:
                for text in (candidates[j].text, *candidates[j].forms):
                    bonus[text] = max(bonus.get(text, float("-inf")), rest / weights.logprob)
        judged = list(bonus)
        # The early stop bounds a likelihood that is rewarded; a negative weight needs them all.
        bounds = [bonus[t] for t in judged] if weights.logprob > 0 else None
        logprobs = dict(zip(judged, judge(judged, bounds), strict=True))
        for c in candidates:
            c.logprob = max(logprobs.get(text, c.logprob) for text in (c.text, *c.forms))
    for candidate, group, rest in groups:
        candidate.features["logprob"] = max(candidates[j].logprob for j in group)
        candidate.score = rest + weights.logprob * candidate.features["logprob"]
    return sorted((c for c, _, _ in groups), key=lambda c: -c.score)


def _is_short_form(short: list[str], full: list[str]) -> bool:
    """`short` ends the name `full`: a surname ("Solberg" of "Mira Solberg"), a name without its
    title ("Mira Solberg" of "Mayor Mira Solberg"). A pair ("Nevada and Oregon") is no long form."""
    if not short or len(short) >= len(full) or len(full) > 6 or "and" in full:
        return False
    return full[-len(short) :] == short


def _nearness(sentence: list[str], phrase: list[str], asked: set[str]) -> float:
    """1 / (1 + the content words between `phrase` and the nearest question term in `sentence`),
    all as search terms (`qa.text.terms`); 0 when the sentence has no question term beside it."""
    n = len(phrase)
    starts = [i for i in range(len(sentence) - n + 1) if n and sentence[i : i + n] == phrase]
    others = [j for j, t in enumerate(sentence) if t in asked and t not in phrase]
    if not starts or not others:
        return 0.0
    gap = min(max(0, i - j - 1, j - (i + n)) for i in starts for j in others)
    return 1.0 / (1 + gap)
