"""Text normalisation shared by grounding checks and evaluation metrics."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_NON_WORD = re.compile(r"[^\w]+")


def normalize(text: str) -> str:
    """Lower case, accents folded, punctuation to spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word containment after normalisation: 'Iran' is not found in 'Iranian'."""
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


def words(text: str) -> list[str]:
    return normalize(text).split()


_STEMMER = Stemmer.Stemmer("english")
# Function words of questions and news prose that say nothing about the topic.
FUNCTION_WORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during before
    after above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own same so
    than too very can will just should now is are was were be been being have has had having do
    does did doing would could may might must shall i me my we our you your he him his she her it
    its they them their what which who whom whose this that these those am said says also""".split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.lower())


def content_stems(text: str) -> list[str]:
    """Stems of the words of `text` that are not function words."""
    return [stem(w) for w in words(text) if w not in FUNCTION_WORDS]
