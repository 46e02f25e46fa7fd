"""Find the passages and sentences that can answer a question.

Two stages:
1. Chunks: the store's lexical (BM25) and dense rankings fused by reciprocal rank
   (`SearchIndex.hybrid_search`). Lexical search catches the rare names and terms of news
   questions; dense search catches paraphrase.
2. Sentences: every sentence of the best chunks that states something (not a question) is
   scored on its own by the evidence ranker (`qa.answering.evidence_rank`): the weights `qa tune`
   learned from past news quizzes, or the hand-set rule (dense similarity of the sentence and of
   the sentence read with its title, plus its `support`, the IDF-weighted share of the
   question's key terms found in the sentence or its title).
   Support decides whether there is evidence at all: below a threshold the assistant abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from qa.answering.evidence_rank import (
    HAND_RANKER,
    SENTENCE_PASSAGES,
    EvidenceRanker,
    SentencePool,
    sentence_features,
)
from qa.answering.question import QuestionForm
from qa.models.embedder import Embedder
from qa.records import Article, Chunk
from qa.stores.base import SearchIndex
from qa.text.sentences import is_question
from qa.text.terms import terms

_HTML_TAG = re.compile(r"<[^>]+>")


@dataclass
class ChunkHit:
    chunk: Chunk
    score: float
    rank: int


@dataclass
class Evidence:
    """One candidate sentence, with the scores that ranked it."""

    article: Article
    sentence_index: int
    score: float
    support: float
    chunk_rank: int

    @property
    def text(self) -> str:
        return self.article.sentence(self.sentence_index)

    @property
    def span(self) -> tuple[int, int]:
        return self.article.sentences[self.sentence_index]


@dataclass
class Retrieval:
    query: str
    chunks: list[ChunkHit]
    # Every scored sentence of the passages read closely, best first: the answer is chosen
    # from the first `n_evidence`, the model's own phrase may be found in any of them.
    sentences: list[Evidence]
    n_evidence: int

    @property
    def evidence(self) -> list[Evidence]:
        return self.sentences[: self.n_evidence]

    @property
    def best_support(self) -> float:
        return max((e.support for e in self.evidence), default=0.0)


def clean_query(question: str) -> str:
    """Strip markup, which carries no searchable fact."""
    text = _HTML_TAG.sub(" ", question)
    return re.sub(r"\s+", " ", text).strip() or question.strip()


class Retriever:
    """Hybrid chunk search plus sentence scoring over one loaded index (any `qa.stores.base` backend)."""

    def __init__(
        self, index: SearchIndex, embedder: Embedder, ranker: EvidenceRanker = HAND_RANKER,
        read: int = SENTENCE_PASSAGES, pool: int | None = None,
    ):  # fmt: skip
        """`read`: how many of the best passages have their sentences scored one by one;
        `pool`: how many passages the features that compare a sentence with the others (best
        similarity, neighbours, article) look at, as when the ranker was trained (default `read`)."""
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.read = read
        self.pool_passages = max(pool or read, read)

    def retrieve(
        self, question: str, top_k: int, candidates: int, n_evidence: int, since: date | None = None,
        form: QuestionForm | None = None,
    ) -> Retrieval:  # fmt: skip
        """`since`: only articles published on or after that day; `form`: the question classified
        (`qa.answering.question.classify`), which the evidence ranker may read."""
        query = clean_query(question)
        if not self.index.chunk_count:
            return Retrieval(query, [], [], n_evidence)
        query_vector = self.embedder.encode([query])[0]
        read = max(top_k, self.read)
        pooled = max(read, self.pool_passages)
        chunks = self.passages(query, query_vector, max(candidates, pooled), since)
        pool = self.pool(query, query_vector, chunks[:pooled], form).within(read)
        scores = self.ranker.score(pool.features) if pool.keys else []
        articles = self.index.articles
        evidence = [
            Evidence(articles[key[0]], key[1], float(score), float(f[2]), rank)
            for key, score, f, rank in zip(pool.keys, scores, pool.features, pool.passage_ranks, strict=True)
        ]
        evidence.sort(key=lambda e: -e.score)
        # The passages read closely are re-ordered by their best sentence.
        best: dict[int, float] = {}
        for e in evidence:
            best[e.chunk_rank] = max(best.get(e.chunk_rank, -1e9), e.score)
        reordered = sorted(chunks[:read], key=lambda h: -best.get(h.rank, -1e9)) + chunks[read:]
        return Retrieval(query, reordered[:top_k], evidence, n_evidence)

    def passages(
        self, query: str, query_vector: np.ndarray, n: int, since: date | None = None
    ) -> list[ChunkHit]:
        """The `n` best passages by fused lexical and dense rank."""
        found = self.index.hybrid_search(query_vector, terms(query), n, since)
        return [ChunkHit(chunk, score, rank) for rank, (chunk, score) in enumerate(found)]

    def pool(
        self, query: str, query_vector: np.ndarray, hits: list[ChunkHit], form: QuestionForm | None = None
    ) -> SentencePool:
        """Every stating sentence of `hits`, once (in the best passage that has it), with its features."""
        seen: dict[tuple[str, int], int] = {}
        articles = self.index.articles
        for hit in hits:
            for i in range(hit.chunk.first, hit.chunk.last + 1):
                seen.setdefault((hit.chunk.article_id, i), hit.rank)
        # A sentence that asks is never evidence: it cannot be cited as an answer.
        texts_by_key = {key: articles[key[0]].sentence(key[1]) for key in seen}
        keys = [key for key, text in texts_by_key.items() if not is_question(text)]
        if not keys:
            return SentencePool([], [], [], np.zeros((0, 0)))
        texts = [texts_by_key[key] for key in keys]
        vectors = self.index.stored_sentence_vectors(keys)
        weights = {t: self.index.idf(t) for t in set(terms(query))}
        ranks = [seen[key] for key in keys]
        features = sentence_features(
            form, weights, keys, texts, [articles[a].title for a, _ in keys], vectors[:, 0] @ query_vector,
            vectors[:, 1] @ query_vector, ranks,
        )  # fmt: skip
        return SentencePool(keys, texts, ranks, features)
