"""Scoring one answer against gold answers, and aggregating over a question set.

Answers are judged by string match (whole words after normalisation), as RealTime QA does, with
one extra rule: an answer over 40 words counts as wrong, so listing many names never scores.

Citation precision and recall follow ALCE (Gao et al. 2023) with an offline lexical judge in
place of an NLI model: a set of sentences *supports* an answer when it contains the answer
phrase and at least half of the question's content words (titles included). See docs/evaluation.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from qa.text.normalize import contains_phrase, words

MAX_ANSWER_WORDS = 40
_MARKER = re.compile(r"\[\d+\]")
_FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been has have had
    this that these those which what who whom whose where when why how did does do its it his her
    their they he she as into than then there after before about over under week recently
    following new according""".split()
)


def answer_words(text: str) -> list[str]:
    return words(_MARKER.sub(" ", text))


def is_correct(answer: str, golds: list[str], abstained: bool = False) -> bool:
    """The answer contains a gold answer as whole words and is at most 40 words long."""
    if abstained or len(answer_words(answer)) > MAX_ANSWER_WORDS:
        return False
    text = _MARKER.sub(" ", answer)
    return any(contains_phrase(text, gold) for gold in golds)


def token_f1(answer: str, golds: list[str], abstained: bool = False) -> float:
    """SQuAD-style token F1 against the best-matching gold answer."""
    if abstained:
        return 0.0
    predicted = answer_words(answer)
    best = 0.0
    for gold in golds:
        reference = words(gold)
        common = sum((Counter(predicted) & Counter(reference)).values())
        if common == 0:
            continue
        precision, recall = common / len(predicted), common / len(reference)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def evidence_found(texts: list[str], golds: list[str]) -> bool:
    return any(contains_phrase(text, gold) for text in texts for gold in golds)


def content_words(question: str) -> set[str]:
    return {w for w in words(question) if w not in _FUNCTION_WORDS and len(w) > 1}


def supports(sentences: list[str], question: str, answer_phrase: str) -> bool:
    """Lexical judge: the sentences carry the answer and at least half the question's terms."""
    if not sentences or not answer_phrase.strip():
        return False
    joined = " ".join(sentences)
    if not contains_phrase(joined, answer_phrase):
        return False
    terms = content_words(question) - set(words(answer_phrase))
    if not terms:
        return True
    present = set(words(joined))
    return len(terms & present) / len(terms) >= 0.5


def citation_scores(question: str, answer_phrase: str, cited: list[str]) -> tuple[float, float]:
    """ALCE citation (recall, precision) for one answered question.

    Recall: the cited sentences together support the answer. Precision: a citation counts when
    it supports the answer alone, or when removing it breaks the support of the rest."""
    if not cited:
        return 0.0, 0.0
    recall = 1.0 if supports(cited, question, answer_phrase) else 0.0
    relevant = 0
    for i, sentence in enumerate(cited):
        rest = cited[:i] + cited[i + 1 :]
        alone = supports([sentence], question, answer_phrase)
        needed = recall == 1.0 and not supports(rest, question, answer_phrase)
        relevant += alone or needed
    return recall, relevant / len(cited)


@dataclass
class Verdict:
    """Everything one question contributes to the metrics."""

    answerable: bool
    abstained: bool
    correct: bool
    f1: float
    evidence_at_5: bool
    citation_supports: bool
    citation_recall: float
    citation_precision: float
    latency_s: float
    words: int
    # Where a miss comes from: the gold answer is in the evidence sentences the answer is chosen
    # from; the answer given or one of the candidates ranked for it is correct (the best a
    # perfect choice among them could do).
    gold_in_evidence: bool = False
    choice_ceiling: bool = False


def aggregate(verdicts: list[Verdict]) -> dict:
    """The metrics.json numbers for a list of per-question verdicts."""
    answerable = [v for v in verdicts if v.answerable]
    unanswerable = [v for v in verdicts if not v.answerable]
    correct = [v for v in answerable if v.correct]
    answered = [v for v in verdicts if not v.abstained]
    latencies = [v.latency_s for v in verdicts]

    def mean(values: list[float]) -> float | None:
        return round(float(np.mean(values)), 4) if values else None

    return {
        "n": len(verdicts),
        "n_answerable": len(answerable),
        "answer_accuracy": mean([v.correct for v in answerable]),
        "token_f1": mean([v.f1 for v in answerable]),
        "evidence_recall_at_5": mean([v.evidence_at_5 for v in answerable]),
        "gold_in_evidence": mean([v.gold_in_evidence for v in answerable]),
        "choice_ceiling": mean([v.choice_ceiling for v in answerable]),
        "citation_support": mean([v.citation_supports for v in correct]),
        "citation_precision": mean([v.citation_precision for v in answered]),
        "citation_recall": mean([v.citation_recall for v in answered]),
        "answer_rate_answerable": mean([not v.abstained for v in answerable]),
        "abstain_rate_unanswerable": mean([v.abstained for v in unanswerable]),
        "latency_p50_s": round(float(np.percentile(latencies, 50)), 3) if latencies else None,
        "latency_p95_s": round(float(np.percentile(latencies, 95)), 3) if latencies else None,
        "mean_answer_words": mean([v.words for v in answered]),
    }
