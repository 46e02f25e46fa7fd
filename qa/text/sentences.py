"""Split article text into sentences (as exact character spans) and group them into chunks.

Spans, not strings: a citation must be an exact sentence of the article, so the splitter only
ever decides where sentences start and end and never rewrites text.
"""

from __future__ import annotations

import re

from qa.records import Article, Chunk

# Words that end with a period without ending a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "lt", "col",
    "capt", "sgt", "maj", "inc", "co", "corp", "ltd", "vs", "etc", "no", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "a.m",
    "p.m", "i.e", "e.g", "mt", "ft", "approx", "dept", "est", "fig", "rev", "hon", "pres",
}  # fmt: skip

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace,
# then something that can open a sentence.
_CLOSERS = r"""["'”’)\]]*"""  # closing quotes and brackets that may follow the final mark
_BOUNDARY = re.compile(rf"""[.!?…]+{_CLOSERS}(?=\s+["'“‘(\[]?[A-Z0-9])""")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)$")
_LINE = re.compile(r"[^\n]+")
_QUESTION_END = re.compile(rf"\?{_CLOSERS}\s*$")
_STATEMENT_END = re.compile(rf"[.!…]{_CLOSERS}\s*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return `(start, end)` spans of the sentences of `text`, in order, without surrounding
    whitespace. Line breaks always end a sentence (headlines, list items, paragraphs)."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for match in _BOUNDARY.finditer(line.group()):
            end = line.start() + match.end()
            if _is_abbreviation(text, line.start() + match.start()):
                continue
            _add_span(text, start, end, spans)
            start = end
        _add_span(text, start, line.end(), spans)
    return spans


def is_question(sentence: str) -> bool:
    """A sentence that asks rather than states ("How did she qualify?"): news subheads and FAQ
    articles are full of them, and they look like the reader's question without answering it."""
    return bool(_QUESTION_END.search(sentence))


def ends_as_statement(sentence: str) -> bool:
    """Ends with ".", "!" or "…" (closing quotes or brackets allowed): lines without one are
    headlines, captions, bylines and link lines ("More: Winter timetable"), which name a topic
    more often than they state a fact."""
    return bool(_STATEMENT_END.search(sentence))


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = _WORD_BEFORE.search(text[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1).lower().lstrip(".")
    # Single letters are initials ("J. K. Rowling"); dotted acronyms ("U.S.") rarely end sentences.
    return token in _ABBREVIATIONS or len(token) == 1


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append((start, end))


def chunk_article(article: Article, chunk_chars: int, overlap: int) -> list[Chunk]:
    """Pack consecutive sentences into chunks of about `chunk_chars` characters; neighbouring
    chunks share `overlap` sentences so an answer that straddles a border is still retrievable."""
    spans = article.sentences
    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= chunk_chars:
            last += 1
        text = article.text[spans[first][0] : spans[last][1]]
        chunks.append(Chunk(article.id, first, last, text))
        if last + 1 >= len(spans):
            break
        first = max(first + 1, last + 1 - overlap)
    return chunks
