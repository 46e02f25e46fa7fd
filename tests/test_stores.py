"""The store interface on both backends: the embedded FAISS segments and Qdrant (local mode)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa.answering.retrieve import Retriever
from qa.config import Settings
from qa.errors import IndexUnavailable, SettingsError
from qa.ingest.readers import read_paths
from qa.models.embedder import Embedder
from qa.stores import IngestReport, add_articles, open_store
from qa.text.terms import terms
from tests.conftest import STORES, store_settings

QUESTIONS = [
    "Who led the restoration of the harbour bridge?",
    "How many homes lost power when Storm Ada hit?",
    "Who won the national chess title in Braga?",
    "Who will Xi Jinping meet in Russia?",
]


def _settings(store: str, tmp_path: Path) -> Settings:
    base = Settings.from_env().replace(index_dir=tmp_path / "indexes", index="news")
    return store_settings(base, store, tmp_path / "qdrant")


def _ingest(settings: Settings, embedder: Embedder, paths: list[Path], **options: object) -> IngestReport:
    store = open_store(settings)
    return add_articles(store, read_paths(paths), embedder, settings, progress=False, **options)


def _evidence(settings: Settings, embedder: Embedder, question: str, since: date | None = None) -> list[str]:
    index = open_store(settings).load(embedder)
    retrieval = Retriever(index, embedder).retrieve(question, 3, settings.candidates, 4, since)
    return [e.text for e in retrieval.evidence]


@pytest.mark.parametrize("store", STORES)
def test_append_replace_and_delete_through_the_store(
    store: str, tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    settings = _settings(store, tmp_path)
    report = _ingest(settings, embedder, [corpus_dir])
    assert len(report.added) == 4 and report.chunks_embedded > 0
    assert "4 unchanged" in _ingest(settings, embedder, [corpus_dir]).summary()
    manifest = open_store(settings).read_manifest()
    assert manifest["counts"]["articles"] == 4

    harbour = corpus_dir / "harbour.md"
    harbour.write_text(
        "# Harbour bridge closes\n\nThe Tallport harbour bridge closed again on Friday for repairs.\n"
    )
    assert "1 replaced" in _ingest(settings, embedder, [corpus_dir]).summary()
    found = _evidence(settings, embedder, "What happened to the Tallport harbour bridge?")
    assert any("closed again on Friday" in text for text in found)
    assert not any("Mira Solberg" in text for text in found)  # the replaced version is gone

    assert open_store(settings).delete([str(harbour)]) == [read_paths([harbour]).articles[0].id]
    index = open_store(settings).load(embedder)
    assert (
        len(index.articles) == 3
        and index.chunk_count == open_store(settings).read_manifest()["counts"]["chunks"]
    )
    assert not any("Tallport" in text for text in _evidence(settings, embedder, "Tallport harbour bridge"))


@pytest.mark.parametrize("store", STORES)
def test_search_can_be_limited_to_recent_articles(
    store: str, tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    settings = _settings(store, tmp_path)
    _ingest(settings, embedder, [corpus_dir])
    question = "Who won the national chess title in Braga?"  # published 2026-02-01
    assert any("Ines Carvalho" in text for text in _evidence(settings, embedder, question))
    assert any("Ines Carvalho" in text for text in _evidence(settings, embedder, question, date(2026, 2, 1)))
    later = _evidence(settings, embedder, question, date(2026, 2, 2))
    assert later and not any("Ines Carvalho" in text for text in later)  # only the harbour article is newer
    index = open_store(settings).load(embedder)
    assert index.hybrid_search(embedder.encode([question])[0], terms(question), 5, date(2030, 1, 1)) == []


def test_both_stores_retrieve_the_same_passages_and_sentences(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    evidence = {}
    for store in STORES:
        settings = _settings(store, tmp_path)
        _ingest(settings, embedder, [corpus_dir])
        index = open_store(settings).load(embedder)
        retriever = Retriever(index, embedder)
        evidence[store] = [
            [(hit.chunk.id, round(hit.score, 6)) for hit in r.chunks]
            + [(e.article.id, e.sentence_index, round(e.score, 4), round(e.support, 4)) for e in r.sentences]
            for r in (retriever.retrieve(q, 5, settings.candidates, 8) for q in QUESTIONS)
        ]
        for term in terms(" ".join(QUESTIONS)):
            evidence[store].append([round(index.idf(term), 6)])
    assert evidence["qdrant"] == evidence["faiss"]


def test_qdrant_misconfiguration_is_reported_at_start_up(tmp_path: Path, embedder: Embedder) -> None:
    from qa.answering.assistant import Assistant

    base = Settings.from_env().replace(index_dir=tmp_path / "indexes", store="qdrant")
    with pytest.raises(SettingsError, match="QA_QDRANT_URL"):
        Assistant(settings=base)
    with pytest.raises(SettingsError, match="QA_QDRANT_URL=http://127.0.0.1:9"):
        Assistant(settings=base.replace(qdrant_url="http://127.0.0.1:9"))  # nothing listens there

    settings = store_settings(base, "qdrant", tmp_path / "qdrant")
    _ingest(settings, embedder, [Path(__file__).parent.parent / "seeds"])

    class OtherEmbedder:  # injected failure: an index built with another model's dimension
        name, dim, runtime = "other-model", 768, "torch"

    with pytest.raises(IndexUnavailable, match="384-dimensional .* not 768-dimensional .* QA_EMBEDDER"):
        open_store(settings).load(OtherEmbedder())


def test_a_qdrant_write_that_fails_midway_leaves_the_live_version_whole(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.stores.qdrant import QdrantStore

    settings = _settings("qdrant", tmp_path)
    _ingest(settings, embedder, [corpus_dir])
    (corpus_dir / "harbour.md").write_text(
        "# Harbour bridge\n\nThe Tallport bridge was painted blue by Ola Berg.\n"
    )
    upsert = QdrantStore._upsert

    def crash_before_articles(self: QdrantStore, collection: str, points: list) -> None:
        if collection == self.articles:
            raise RuntimeError("connection lost")  # passages and sentences of the new version written
        upsert(self, collection, points)

    monkeypatch.setattr(QdrantStore, "_upsert", crash_before_articles)
    with pytest.raises(RuntimeError):
        _ingest(settings, embedder, [corpus_dir])
    during = _evidence(settings, embedder, "Who painted the harbour bridge in Tallport?")
    assert any("Mira Solberg" in text for text in during)  # the live version, whole
    assert not any("painted blue" in text for text in during)  # the half-written one is not read
    monkeypatch.setattr(QdrantStore, "_upsert", upsert)
    assert "1 replaced" in _ingest(settings, embedder, [corpus_dir]).summary()
    store = open_store(settings)
    counts = store.read_manifest()["counts"]
    assert counts["chunks"] == store.client.count(store.passages, exact=True).count  # nothing left over
    assert any(
        "painted blue" in text for text in _evidence(settings, embedder, "Who painted the Tallport bridge?")
    )


def test_qdrant_writers_take_turns_and_readers_follow_other_writers(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.stores.qdrant as qdrant

    settings = _settings("qdrant", tmp_path)
    _ingest(settings, embedder, [corpus_dir])
    reader = open_store(settings).load(embedder)  # an app that loaded the index earlier
    question = "Who led the restoration of the harbour bridge?"
    assert "Mira Solberg" in Retriever(reader, embedder).retrieve(question, 3, 40, 4).evidence[0].text

    other = open_store(settings)  # another process's writer: its own lease token
    other._acquire()
    with pytest.raises(IndexUnavailable, match="being written by another process"):
        open_store(settings).delete([str(corpus_dir / "storm.html")])
    monkeypatch.setattr(qdrant, "LEASE_SECONDS", 0)  # the other writer stopped renewing: crashed
    other._acquire()
    (corpus_dir / "harbour.md").write_text(
        "# Harbour bridge\n\nEngineer Ola Berg led the harbour bridge repairs.\n"
    )
    assert "1 replaced" in _ingest(settings, embedder, [corpus_dir]).summary()
    # The reader's cached article is stale: the new version's passages tell it to read it again.
    found = Retriever(reader, embedder).retrieve(question, 3, 40, 4)
    assert any("Ola Berg" in e.text for e in found.evidence)
    assert not any("Mira Solberg" in e.text for e in found.evidence)
    assert reader.chunk_count == open_store(settings).read_manifest()["counts"]["chunks"]


def test_a_qdrant_delete_that_fails_midway_is_finished_by_the_next_write(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.stores.qdrant import QdrantStore

    settings = _settings("qdrant", tmp_path)
    _ingest(settings, embedder, [corpus_dir])
    finish = QdrantStore._finish_pending

    def crash(self: QdrantStore, meta: dict) -> None:
        raise RuntimeError("connection lost")  # the article points are gone, its passages not yet

    monkeypatch.setattr(QdrantStore, "_finish_pending", crash)
    with pytest.raises(RuntimeError):
        open_store(settings).delete([str(corpus_dir / "storm.html")])
    monkeypatch.setattr(QdrantStore, "_finish_pending", finish)
    assert not any("Storm Ada" in t for t in _evidence(settings, embedder, "Storm Ada winds Port Elric"))
    assert "0 added" in _ingest(settings, embedder, [corpus_dir / "harbour.md"]).summary()
    store = open_store(settings)
    counts = store.read_manifest()["counts"]
    assert counts["articles"] == 3
    assert counts["chunks"] == store.client.count(store.passages, exact=True).count  # no orphans left
