"""Retrieval on a real index of invented articles: passages by hybrid search, then sentences
scored one by one; a sentence that asks is never evidence, and support says how much of the
question a sentence carries."""

from pathlib import Path

from qa.answering.retrieve import Retriever
from qa.models.embedder import Embedder
from qa.records import Article
from qa.stores.local.index import IndexStore

ARTICLES = [
    Article(
        "Tallport bridge reopens",
        "Who will pay for the repairs? Engineer Mira Solberg led the restoration of the Lindqvist "
        "bridge in Tallport. The bridge reopened to traffic on Monday.",
        "bridge.txt",
    ),
    Article(
        "Ferry timetable changes",
        "The Aldmouth ferry will leave an hour earlier from June. Tickets cost the same.",
        "ferry.txt",
    ),
]


def test_the_sentence_that_states_the_answer_is_the_best_evidence(tmp_path: Path, embedder: Embedder) -> None:
    store = IndexStore(tmp_path, "news")
    store.ingest(ARTICLES, embedder, 1200, 1, progress=False)
    retriever = Retriever(store.load(embedder), embedder)
    retrieval = retriever.retrieve("Who led the restoration of the bridge?", 2, 10, 4)
    best = retrieval.evidence[0]
    assert best.text == "Engineer Mira Solberg led the restoration of the Lindqvist bridge in Tallport."
    assert best.article.title == "Tallport bridge reopens"
    assert retrieval.chunks[0].chunk.article_id == best.article.id
    assert all(not e.text.endswith("?") for e in retrieval.sentences)  # a question is never evidence
    ferry = next(e for e in retrieval.sentences if "ferry" in e.text)
    assert best.support > ferry.support and best.support == retrieval.best_support


def test_an_empty_index_retrieves_nothing(tmp_path: Path, embedder: Embedder) -> None:
    store = IndexStore(tmp_path, "empty")
    store.ingest([], embedder, 1200, 1, progress=False)
    retrieval = Retriever(store.load(embedder), embedder).retrieve("Who led it?", 2, 10, 4)
    assert retrieval.evidence == [] and retrieval.best_support == 0.0
