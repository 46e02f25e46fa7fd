"""The model's phrase, found in the evidence: markers checked, the sentences that carry it.

The model is asked for "short answer [n]". Whatever it writes, only evidence sentences can
carry it, an invented marker is dropped, and a phrase that occurs in no evidence sentence is
not grounded (the decision then abstains or chooses among the evidence's own phrases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answering.retrieve import Evidence
from qa.text.normalize import contains_phrase, normalize

_MARKER = re.compile(r"\[(\d{1,3})\]")
_TRAILING = re.compile(r"[\s.,;:!?\"'“”‘’()\-–—]+$")
_LEADING = re.compile(r"^[\s,;:\"'“”‘’()\-–—]+")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


@dataclass
class Grounded:
    """A short answer and the evidence positions (0-based) that carry it."""

    phrase: str
    supporting: list[int]
    score: float | None = None


def parse_output(raw: str) -> tuple[str, list[int]]:
    """Split model output into the answer phrase and the markers it wrote (1-based)."""
    line = raw.strip().split("\n", 1)[0]
    markers = [int(m) for m in _MARKER.findall(line)]
    phrase = _MARKER.sub(" ", line)
    phrase = _LEADING.sub("", _TRAILING.sub("", re.sub(r"\s+", " ", phrase)))
    return phrase, markers


def ground(raw: str, evidence: list[Evidence]) -> Grounded | None:
    """The phrase with the evidence that contains it, or None when no evidence contains it.

    A leading article the sentences do not share ("The United States" for "the U.S. and United
    States") is dropped rather than losing the answer."""
    phrase, markers = parse_output(raw)
    for form in dict.fromkeys([phrase, _ARTICLE.sub("", phrase)]):
        if not normalize(form):
            continue
        containing = [i for i, e in enumerate(evidence) if contains_phrase(e.text, form)]
        if containing:
            # Prefer the sentences the model pointed at (markers that exist and carry the
            # phrase), then the best-ranked sentence that carries it.
            cited = [m - 1 for m in markers if 0 < m <= len(evidence) and (m - 1) in containing]
            chosen = list(dict.fromkeys(cited)) or containing[:1]
            return Grounded(_exact_case(form, evidence[chosen[0]].text), chosen)
    return None


def _exact_case(phrase: str, sentence: str) -> str:
    """Show the phrase as the article writes it (the model may change case or punctuation)."""
    pattern = r"\W+".join(re.escape(w) for w in phrase.split())
    match = re.search(rf"(?<!\w){pattern}(?!\w)", sentence, re.I)
    return match.group(0) if match else phrase
