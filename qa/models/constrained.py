"""Decoding restricted to phrases of the evidence (`QA_ANSWER_MODE=extract`).

A small model asked for a short answer often writes a plausible phrase no sentence contains
("peace" where the article says "civilian populations"); such a phrase cannot be cited, so the
answer is lost. Here every step of greedy decoding may only continue a phrase that some evidence
sentence writes from the start of one of its words, or end the answer. The log-probability the
model gave that path, with the restriction lifted, says how much it wanted that phrase: a low
one is the model's own "this is not what I would have said", which the decision uses to abstain.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PhraseTrie = dict[int, "PhraseTrie"]

# Where a phrase may start: a word, or the quote, bracket or currency sign in front of one.
_PHRASE_START = re.compile(r"(?<!\w)\w|[$£€“\"‘'(]")
PHRASE_CHARS = 160  # longer than any phrase `max_tokens` allows


def phrase_trie(tokenize: Callable[[str], list[int]], sentences: list[str], max_tokens: int) -> PhraseTrie:
    """Every phrase of `sentences` that starts at a word, as the token paths the model would
    write it in after "Answer:" (with a leading space), up to `max_tokens` tokens."""
    trie: PhraseTrie = {}
    for sentence in sentences:
        for start in _PHRASE_START.finditer(sentence):
            node = trie
            for token in tokenize(" " + sentence[start.start() : start.start() + PHRASE_CHARS])[:max_tokens]:
                node = node.setdefault(token, {})
    return trie
