"""Text normalisation shared by grounding checks and evaluation metrics."""

from __future__ import annotations

import re
import unicodedata

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
