"""Search terms: the one tokeniser for passages, questions and sentences, so what is indexed
and what is looked up always match (both stores' BM25, and sentence support)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import bm25s
import Stemmer

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
_STOPWORDS = set(bm25s.stopwords.STOPWORDS_EN) | {
    "which", "what", "who", "whom", "whose", "where", "when", "why", "how", "said", "says",
    "also", "would", "could",
}  # fmt: skip


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-cased, stop-worded, Snowball-stemmed word tokens."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
    return _stemmer().stemWords(words)


def idf(doc_freq: int, n_docs: int) -> float:
    """BM25's inverse document frequency of a term found in `doc_freq` of `n_docs` passages."""
    return math.log(1 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
