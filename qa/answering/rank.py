"""Candidates scored, in one place: weighted features, and the model's likelihood of each as
the answer, read only as far as it can still change the winner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa.answering.candidates import Candidate
from qa.answering.question import QuestionForm
from qa.text.normalize import contains_phrase, words

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
