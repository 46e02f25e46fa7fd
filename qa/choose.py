"""Pick the answer among spans of the evidence sentences, by the model's own likelihood.

A small base model is a poor writer but a fair judge: asked to continue "Answer:", it assigns
the right span of the evidence a higher probability than it would ever generate greedily.
Candidates are copied from evidence sentences, so whatever is chosen is grounded by
construction. Model-agnostic: a larger model simply judges better.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.retrieve import Evidence
from qa.textnorm import normalize, words

# Runs of capitalised words (names, places, organisations, titles), allowing short joiners.
_PROPER = re.compile(
    r"(?:[A-Z][\w'’.&-]*|[0-9]+[A-Za-z]*)(?:\s+(?:(?:of|the|de|da|del|der|van|von|la|le|and|&|for)\s+)?"
    r"(?:[A-Z][\w'’.&-]*|[0-9]+))*"
)
_NUMBER = re.compile(
    r"(?:[$£€]\s?)?\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|"
    r"years?|days?|weeks?|months?|hours?|minutes?|people|cases|points|bricks)\b)*"
)
_QUOTED = re.compile(r"[“\"]([^”\"]{2,60})[”\"]")
_LEADING_FUNCTION = re.compile(
    r"^(?:The|A|An|In|On|At|But|And|For|As|If|It|Its|This|That|These|Those|He|She|They|We|"
    r"When|While|After|Before|By|From|With|Of|To|Last|Next|On)\s+"
)
_LONE_STOPWORDS = {
    "the", "a", "an", "in", "on", "at", "but", "and", "for", "as", "if", "it", "its", "this",
    "that", "he", "she", "they", "we", "i", "when", "while", "after", "before", "by", "from",
    "with", "of", "to", "mr", "mrs", "ms", "dr", "said", "says", "there", "what", "who",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "according",
}  # fmt: skip


@dataclass
class Candidate:
    text: str
    evidence: int  # position of the first (best-ranked) evidence sentence that carries it
    logprob: float = 0.0
    tokens: int = 1
    score: float = 0.0


def extract_candidates(question: str, evidence: list[Evidence], limit: int = 24) -> list[Candidate]:
    """Names, numbers and quoted phrases from the evidence that the question does not already say."""
    asked = set(words(question))
    seen: set[str] = set()
    found: list[Candidate] = []
    for position, item in enumerate(evidence):
        text = item.text
        spans = [m.group(0) for m in _PROPER.finditer(text)]
        spans += [m.group(0) for m in _NUMBER.finditer(text)]
        spans += [m.group(1) for m in _QUOTED.finditer(text)]
        for span in spans:
            span = _LEADING_FUNCTION.sub("", span.strip(" .,;:'’\"-")).strip(" .,;:'’\"-")
            key = normalize(span)
            tokens = key.split()
            if not key or key in seen or len(tokens) > 8:
                continue
            if all(t in asked or t in _LONE_STOPWORDS for t in tokens):
                continue  # the question's own words, or nothing but function words
            seen.add(key)
            found.append(Candidate(span, position))
    return found[:limit]


def add_candidate(candidates: list[Candidate], text: str, evidence: int) -> None:
    key = normalize(text)
    if key and all(normalize(c.text) != key for c in candidates):
        candidates.append(Candidate(text, evidence))


def rank(
    candidates: list[Candidate], scores: list[tuple[float, int]], evidence: list[Evidence]
) -> list[Candidate]:
    """Order by length-normalised log-likelihood plus a prior for better-ranked evidence."""
    for candidate, (logprob, count) in zip(candidates, scores, strict=True):
        candidate.logprob, candidate.tokens = logprob, count
        prior = evidence[candidate.evidence].score
        candidate.score = logprob / count**0.5 + 1.0 * prior
    return sorted(candidates, key=lambda c: -c.score)
