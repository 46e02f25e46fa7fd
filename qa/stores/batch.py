"""What every store writes, made the same way whatever keeps it: the plan of an ingest (which
articles are new, changed, unchanged, or copies of another article's text) and the embedded
batch of the new and changed ones (passages and sentences, alone and with their title)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.models.embedder import TextEncoder
from qa.records import Article, Chunk
from qa.text.sentences import chunk_article, split_sentences

if TYPE_CHECKING:
    from qa.ingest.readers import ReadResult


@dataclass
class IngestReport:
    """What one ingest did, article by article."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files read, but not as UTF-8
    chunks_embedded: int = 0
    sentences_embedded: int = 0

    @classmethod
    def of(cls, result: ReadResult) -> IngestReport:
        """A report that starts with what reading the files skipped or noted."""
        return cls(skipped=list(result.skipped), notes=list(result.notes))

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.replaced)} replaced",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.duplicates)} duplicate",
            f"{len(self.skipped)} skipped",
        ]
        embedded = f"{self.chunks_embedded} chunks, {self.sentences_embedded} sentences embedded"
        return ", ".join(parts) + f" ({embedded})"


class Previous(Protocol):
    """What planning an ingest asks of the live index."""

    def content_hash(self, article_id: str) -> str | None: ...

    def owner_of_text(self, digest: str) -> str | None: ...


@dataclass
class EmbeddedBatch:
    """New and changed articles, ready to store."""

    articles: list[Article]
    chunks: list[tuple[int, int, int]]  # (position in `articles`, first sentence, last sentence)
    chunk_vectors: np.ndarray  # (len(chunks), dim) float32
    sentence_vectors: np.ndarray  # (sentences of all articles in order, 2, dim) float16


def plan_ingest(
    articles: Iterable[Article], previous: Previous | None, report: IngestReport
) -> tuple[list[Article], set[str]]:
    """The articles to write (new or changed; the last version of one changed twice) and the
    ids of live articles they replace. Unchanged articles and copies of another article's text
    are listed in `report` and left out."""
    fresh: dict[str, Article] = {}
    fresh_texts: dict[str, str] = {}
    replaced: set[str] = set()
    for article in articles:
        label = f"{article.title} ({article.source})"
        if not article.sentences:  # built in code rather than read from a file
            article.sentences = split_sentences(article.text)
            if not article.sentences:
                report.skipped.append(f"{label}: skipped, no sentences found")
                continue
        live_hash = previous.content_hash(article.id) if previous is not None else None
        old_hash = fresh[article.id].content_hash if article.id in fresh else live_hash
        if old_hash == article.content_hash:
            report.unchanged.append(label)
            continue
        digest = text_hash(article)
        owner = fresh_texts.get(digest)
        if owner is None and previous is not None:
            owner = previous.owner_of_text(digest)
            owner = None if owner in replaced else owner  # its old text is being replaced
        if owner is not None and owner != article.id:
            report.duplicates.append(label)
            continue
        if article.id in fresh:  # changed twice in one batch: the last version counts
            fresh_texts.pop(text_hash(fresh.pop(article.id)), None)
        else:
            (report.replaced if old_hash is not None else report.added).append(label)
        if live_hash is not None:
            replaced.add(article.id)
        fresh[article.id] = article
        fresh_texts[digest] = article.id
    return list(fresh.values()), replaced


def embed_batch(
    articles: list[Article], embedder: TextEncoder, chunk_chars: int, chunk_overlap: int,
    progress: bool = False, report: IngestReport | None = None,
) -> EmbeddedBatch:  # fmt: skip
    """Split articles into passages and embed passages and sentences (alone and with their
    title). Two `encode` calls, passages then sentences and titles: the int8 embedder
    quantises activations per batch, so batching decides the last digits."""
    chunks = [
        (n, c.first, c.last)
        for n, article in enumerate(articles)
        for c in chunk_article(article, chunk_chars, chunk_overlap)
    ]
    chunk_vectors = embedder.encode([passage_text(articles[n], f, last) for n, f, last in chunks], progress)
    sentence_vectors = encode_sentences(embedder, articles, progress)
    if report is not None:
        report.chunks_embedded = len(chunks)
        report.sentences_embedded = len(sentence_vectors)
    return EmbeddedBatch(articles, chunks, chunk_vectors, sentence_vectors)


def text_hash(article: Article) -> str:
    """Same text under another source is a duplicate (wire copies, mirrors)."""
    return hashlib.sha1(article.text.strip().encode("utf-8")).hexdigest()


def embedding_text(article: Article, chunk: Chunk) -> str:
    """The title travels with every chunk: a passage rarely names its own topic."""
    return f"{article.title}\n{chunk.text}"


def passage_text(article: Article, first: int, last: int) -> str:
    """What a chunk of sentences `first..last` is embedded and BM25-indexed as."""
    return embedding_text(article, Chunk(article.id, first, last, article.span_text(first, last)))


def encode_sentences(embedder: TextEncoder, articles: list[Article], progress: bool = False) -> np.ndarray:
    """float16 (n, 2, dim): each sentence alone and read with its title ("He said..." often
    needs the headline), in article order, as segments store them. The titled vector is the
    normalised sum of the sentence's vector and its title's, not an encoding of "title.
    sentence": one encoding per sentence instead of two, and it ranks evidence as well
    (docs/experiments.md, "Faster answers")."""
    plain = [a.sentence(i) for a in articles for i in range(len(a.sentences))]
    titles = list(dict.fromkeys(a.title for a in articles))
    encoded = embedder.encode(plain + titles, progress=progress)
    title_row = {title: len(plain) + n for n, title in enumerate(titles)}
    sentences = encoded[: len(plain)]
    titled = sentences + encoded[[title_row[a.title] for a in articles for _ in a.sentences]]
    titled /= np.maximum(np.linalg.norm(titled, axis=1, keepdims=True), 1e-12)
    return np.stack([sentences, titled], axis=1).astype(np.float16)
