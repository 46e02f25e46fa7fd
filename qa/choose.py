"""Pick the answer among spans of the evidence sentences, by the model's own likelihood.

A small base model is a poor writer but a fair judge: asked to continue "Answer:", it assigns
the right span of the evidence a higher probability than it would ever generate greedily.
Candidates are copied from evidence sentences, so whatever is chosen is grounded by
construction. Model-agnostic: a larger model simply judges better.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from qa.retrieve import Evidence
from qa.textnorm import contains_phrase, normalize, words

# Runs of capitalised words (names, places, organisations, titles), allowing short joiners.
_PROPER = re.compile(
    r"(?:[A-Z][\w'’.&-]*|[0-9]+[A-Za-z]*)(?:\s+(?:(?:of|the|de|da|del|der|van|von|la|le|for)\s+)?"
    r"(?:[A-Z][\w'’.&-]*|[0-9]+))*"
)
_NUMBER = re.compile(
    r"(?:[$£€]\s?)?\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|"
    r"years?|days?|weeks?|months?|hours?|minutes?|people|cases|points|bricks)\b)*"
)
_PAIR_JOINER = re.compile(r"\s+(?:and|&)\s+")
_QUOTED = re.compile(r"[“\"]([^”\"]{2,60})[”\"]")
_LEADING_FUNCTION = re.compile(
    r"^(?:The|A|An|In|On|At|But|And|For|As|If|It|Its|This|That|These|Those|He|She|They|We|"
    r"When|While|After|Before|By|From|With|Of|To|Last|Next|On|Watch|Video|Photos|Read|Related|"
    r"Listen|Opinion|Analysis|Advertisement)\s+"
)
_LONE_STOPWORDS = {
    "the", "a", "an", "in", "on", "at", "but", "and", "for", "as", "if", "it", "its", "this",
    "that", "he", "she", "they", "we", "i", "when", "while", "after", "before", "by", "from",
    "with", "of", "to", "mr", "mrs", "ms", "dr", "said", "says", "there", "what", "who",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "according",
    "yet", "some", "despite", "however", "meanwhile", "still", "also", "many", "most", "other",
    "such", "here", "now", "then", "today", "although", "instead", "even", "only",
}  # fmt: skip
_POSSESSIVE = re.compile(r"['’]s$")


_WANTS_NUMBER = re.compile(
    r"\bhow (many|much|old|long|far|big|tall|large)\b|\bwhat (year|percentage|number|age|date)\b|"
    r"\bwhen\b|\bwhich (year|day|date)\b",
    re.I,
)


@dataclass
class Candidate:
    text: str
    evidence: int  # position of the first (best-ranked) evidence sentence that carries it
    generated: bool = False  # the model wrote this phrase itself
    logprob: float = 0.0
    score: float = 0.0


def extract_candidates(question: str, evidence: list[Evidence], limit: int = 40) -> list[Candidate]:
    """Names, numbers and quoted phrases from the evidence that the question does not already say.

    The question's form filters them: a "how many / when" question wants a number, a
    "who / which" question does not."""
    asked = set(words(question))
    # Words written lower case somewhere in the evidence are common words, even when a
    # sentence happens to start with them ("Reducing ...", "Her ...", "Video ...").
    common = {w for e in evidence for w in re.findall(r"\b[a-z][a-z'’-]+\b", e.text)}
    seen: set[str] = set()
    found: list[Candidate] = []
    for position, item in enumerate(evidence):
        text = item.text
        names = list(_PROPER.finditer(text))
        spans = [m.group(0) for m in names]
        # "Missouri and Texas", "Jackie and Shadow": questions may ask for a pair.
        spans += [
            text[a.start() : b.end()]
            for a, b in itertools.pairwise(names)
            if _PAIR_JOINER.fullmatch(text[a.end() : b.start()])
        ]
        spans += [m.group(0) for m in _NUMBER.finditer(text)]
        spans += [m.group(1) for m in _QUOTED.finditer(text)]
        for span in spans:
            span = _LEADING_FUNCTION.sub("", span.strip(" .,;:'’\"-")).strip(" .,;:'’\"-")
            span = _POSSESSIVE.sub("", span)
            key = normalize(span)
            tokens = key.split()
            if not key or key in seen or len(tokens) > 8:
                continue
            if all(t in asked or t in _LONE_STOPWORDS for t in tokens):
                continue  # the question's own words, or nothing but function words
            if len(tokens) == 1 and tokens[0] in common and not span[0].isdigit():
                continue
            seen.add(key)
            found.append(Candidate(span, position))
    wants_number = bool(_WANTS_NUMBER.search(question))
    typed = [c for c in found if any(ch.isdigit() for ch in c.text) == wants_number]
    return (typed or found)[:limit]


def add_candidate(candidates: list[Candidate], text: str, evidence: int) -> None:
    """Add the model's own (grounded) phrase, or mark the matching candidate as generated."""
    key = normalize(text)
    for candidate in candidates:
        if normalize(candidate.text) == key:
            candidate.generated = True
            return
    if key:
        candidates.append(Candidate(text, evidence, generated=True))


def rank(candidates: list[Candidate], logprobs: list[float], evidence: list[Evidence]) -> list[Candidate]:
    """Order candidates by likelihood, by how often the evidence repeats them (better-ranked
    sentences count more), and by whether the model wrote them itself. The weights were set
    on the six dev weeks as a whole (a plateau: neighbouring weights score within 1-2 questions).

    A short form of a longer candidate ("Biden" in "President Joe Biden") is one entity: its
    evidence counts for the longer form, which is the one shown."""
    for candidate, logprob in zip(candidates, logprobs, strict=True):
        candidate.logprob = logprob
    texts = [words(c.text) for c in candidates]
    mentions = [
        sum(1.0 / (1 + i) for i, e in enumerate(evidence) if contains_phrase(e.text, c.text))
        for c in candidates
    ]
    ranked = []
    for i, candidate in enumerate(candidates):
        if any(_is_short_form(texts[i], other) for other in texts):
            continue
        group = [j for j, other in enumerate(texts) if j == i or _is_short_form(other, texts[i])]
        candidate.logprob = max(candidates[j].logprob for j in group)
        generated = any(candidates[j].generated for j in group)
        repeated = sum(mentions[j] for j in group)
        candidate.score = 0.5 * candidate.logprob + 2.0 * repeated + 3.0 * generated
        ranked.append(candidate)
    return sorted(ranked, key=lambda c: -c.score)


def _is_short_form(short: list[str], full: list[str]) -> bool:
    """`short` is the last word of the name `full` (a surname: "Brody" of "Adrien Brody")."""
    return len(short) == 1 and 2 <= len(full) <= 5 and full[-1] == short[0]
