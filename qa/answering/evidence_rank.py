"""Which sentences of the passages read closely become the evidence: what is known of each
sentence (its features), and the two ways of scoring them.

- `HAND_RANKER`: the hand-set rule of the first versions: dense similarity of the sentence and
  of the sentence read with its title, plus its support, less a penalty for a line that does not
  end as a statement (`QA_TUNED=off`).
- `LinearRanker`: weights learned from past news quizzes by `qa tune` (`qa.tune.evidence`):
  which sentences held the quiz's answer. It reads more of what is cheap to know of a sentence
  (its place in the article and in the ranking, whether it says anything the question does not,
  whether it has the kind of word the question asks for).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.answering.question import AnswerType, QuestionForm
from qa.errors import ModelError
from qa.text.sentences import ends_as_statement
from qa.text.terms import terms

# Subtracted from a line not ending in ".", "!" or "…" (headline, caption, byline) by the hand
# rule: chosen on dev and val together (gold answer in the 8 evidence sentences, 0.1 / 0.25 / 0.5).
UNFINISHED_PENALTY = 0.25
SENTENCE_PASSAGES = 8  # passages whose sentences are scored one by one, unless a tuned ranker says

FEATURES = (
    "similarity",  # dense cosine of the sentence and the question
    "titled_similarity",  # ... of the sentence read with its article's title
    "support",  # IDF-weighted share of the question's terms in the sentence or its title
    "sentence_support",  # ... in the sentence alone
    "unfinished",  # 1 for a line not ending as a statement
    "passage_rank",  # 1 / (1 + rank of the passage it was read in)
    "position",  # 1 / (1 + its position in its article)
    "length",  # log(1 + its number of words)
    "new_terms",  # share of its terms the question does not use: it says something more
    "digits",  # it has a number
    "names",  # share of its words, after the first, that are capitalised
    "number_asked",  # digits, when the question asks for a number, an amount or a date
    "name_asked",  # names, when the question asks for a person, place or organisation
    "similarity_to_best",  # similarity less the best similarity of the sentences read
    "support_to_best",  # support less the best support of the sentences read
    "neighbour_support",  # the best sentence support of the sentences just before and after it
    "article_support",  # the best sentence support in its article: the article is about the question
)
_NUMBER_TYPES = {
    AnswerType.COUNT, AnswerType.PERCENT, AnswerType.MONEY, AnswerType.DATE, AnswerType.QUANTITY
}  # fmt: skip
_NAME_TYPES = {AnswerType.PERSON, AnswerType.PLACE, AnswerType.ORGANIZATION}
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_DIGIT = re.compile(r"\d")


@dataclass
class SentencePool:
    """The sentences read closely for one question, with what is known of each (rows of `features`
    in `FEATURES` order)."""

    keys: list[tuple[str, int]]  # (article id, sentence index)
    texts: list[str]
    passage_ranks: list[int]  # the rank of the best passage that has it
    features: np.ndarray

    def within(self, read: int) -> SentencePool:
        """The sentences of the first `read` passages, their features still those of the whole pool."""
        keep = [n for n, rank in enumerate(self.passage_ranks) if rank < read]
        if len(keep) == len(self.keys):
            return self
        return SentencePool(
            [self.keys[n] for n in keep], [self.texts[n] for n in keep],
            [self.passage_ranks[n] for n in keep], self.features[keep],
        )  # fmt: skip


def sentence_features(
    form: QuestionForm | None, query_weights: dict[str, float], keys: list[tuple[str, int]],
    texts: list[str], titles: list[str], similarity: np.ndarray, titled_similarity: np.ndarray,
    passage_ranks: list[int],
) -> np.ndarray:  # fmt: skip
    """One row per sentence (`keys`: article id and sentence position), `FEATURES` order.
    `query_weights`: the question's terms by IDF."""
    total = sum(query_weights.values()) or 1.0
    asks_number = form is not None and form.answer_type in _NUMBER_TYPES
    asks_name = form is not None and form.answer_type in _NAME_TYPES
    rows = np.zeros((len(texts), len(FEATURES)), dtype=np.float64)
    rows[:, 0] = similarity
    rows[:, 1] = titled_similarity
    for n, (text, title) in enumerate(zip(texts, titles, strict=True)):
        own = set(terms(text))
        covered = own | set(terms(title))
        words = _WORD.findall(text)
        digits = float(bool(_DIGIT.search(text)))
        names = sum(w[0].isupper() for w in words[1:]) / max(1, len(words) - 1)
        rows[n, 2] = sum(w for t, w in query_weights.items() if t in covered) / total
        rows[n, 3] = sum(w for t, w in query_weights.items() if t in own) / total
        rows[n, 4] = 0.0 if ends_as_statement(text) else 1.0
        rows[n, 5] = 1.0 / (1 + passage_ranks[n])
        rows[n, 6] = 1.0 / (1 + keys[n][1])
        rows[n, 7] = math.log1p(len(words))
        rows[n, 8] = len(own - query_weights.keys()) / max(1, len(own))
        rows[n, 9] = digits
        rows[n, 10] = names
        rows[n, 11] = digits if asks_number else 0.0
        rows[n, 12] = names if asks_name else 0.0
    if len(texts):
        rows[:, 13] = rows[:, 0] - rows[:, 0].max()
        rows[:, 14] = rows[:, 2] - rows[:, 2].max()
        own_support = dict(zip(keys, rows[:, 3], strict=True))
        best_in_article: dict[str, float] = {}
        for (article, _), value in own_support.items():
            best_in_article[article] = max(best_in_article.get(article, 0.0), value)
        for n, (article, i) in enumerate(keys):
            rows[n, 15] = max(own_support.get((article, i - 1), 0.0), own_support.get((article, i + 1), 0.0))
            rows[n, 16] = best_in_article[article]
    return rows


class EvidenceRanker(Protocol):
    name: str

    def score(self, features: np.ndarray) -> np.ndarray: ...


class HandRanker:
    """similarity + titled similarity + support, less `UNFINISHED_PENALTY` for an unfinished line."""

    name = "hand"

    def score(self, features: np.ndarray) -> np.ndarray:
        summed = (features[:, 0].astype(np.float32) + features[:, 1].astype(np.float32)).astype(np.float64)
        return summed + features[:, 2] - UNFINISHED_PENALTY * features[:, 4]


HAND_RANKER = HandRanker()


@dataclass(frozen=True)
class LinearRanker:
    """A logistic model of "this sentence holds the answer", over standardised features."""

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float = 0.0
    name: str = "learned"
    features: tuple[str, ...] = FEATURES

    def score(self, features: np.ndarray) -> np.ndarray:
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.weights) + self.bias

    def save(self, path: Path, **card: object) -> None:
        data = {
            "kind": "linear", "features": list(self.features), "weights": list(self.weights),
            "mean": list(self.mean), "scale": list(self.scale), "bias": self.bias, **card,
        }  # fmt: skip
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearRanker:
        """A ranker `qa tune` wrote; one made for other features is refused, not misread."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            names = tuple(data["features"])
            ranker = cls(
                tuple(map(float, data["weights"])), tuple(map(float, data["mean"])),
                tuple(map(float, data["scale"])), float(data["bias"]), f"learned:{Path(path).parent.name}",
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"Cannot read the evidence ranker {path}: {exc}") from exc
        if names != FEATURES or not len(ranker.weights) == len(ranker.mean) == len(ranker.scale) == len(
            FEATURES
        ):
            raise ModelError(
                f"The evidence ranker {path} was trained on other features ({', '.join(names)}); "
                "retrain it with this version (`qa tune`) or set QA_TUNED=off."
            )
        return ranker
