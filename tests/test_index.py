from pathlib import Path

import faiss
import pytest

from qa.embed import Embedder
from qa.errors import IndexUnavailable
from qa.index import IndexStore
from qa.ingest import read_paths


def _ingest(store: IndexStore, paths: list[Path], embedder: Embedder, **kw):
    return store.ingest(read_paths(paths).articles, embedder, 600, 1, progress=False, **kw)


def test_ingest_then_reingest_unchanged_adds_nothing(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    store = IndexStore(tmp_path, "news")
    first = _ingest(store, [corpus_dir], embedder)
    assert len(first.added) == 4 and first.chunks_embedded > 0
    index = store.load(embedder)
    assert len(index.articles) == 4 and index.vectors.ntotal == len(index.chunks)
    live = (store.path / "CURRENT").read_text()
    again = _ingest(store, [corpus_dir], embedder)
    assert len(again.unchanged) == 4 and again.added == [] and again.chunks_embedded == 0
    assert (store.path / "CURRENT").read_text() == live


def test_changed_article_replaces_its_chunks(tmp_path: Path, corpus_dir: Path, embedder: Embedder) -> None:
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    before = store.load(embedder)
    (corpus_dir / "harbour.md").write_text("# Harbour bridge reopens\n\nThe bridge closed again on Friday.\n")
    report = _ingest(store, [corpus_dir], embedder)
    assert len(report.replaced) == 1 and len(report.unchanged) == 3
    after = store.load(embedder)
    assert len(after.articles) == 4
    texts = [c.text for c in after.chunks]
    assert any("closed again" in t for t in texts)
    assert not any("Mira Solberg" in t for t in texts)
    assert after.vectors.ntotal == len(after.chunks) < len(before.chunks) + 5


def test_crash_mid_write_keeps_previous_version_loadable(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    before = store.load(embedder)
    (corpus_dir / "extra.txt").write_text("A brand new article about Tallport harbour.")

    def explode(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while the index was written

    monkeypatch.setattr(faiss, "write_index", explode)
    with pytest.raises(KeyboardInterrupt):
        _ingest(store, [corpus_dir], embedder)
    monkeypatch.undo()
    after = store.load(embedder)
    assert set(after.articles) == set(before.articles)
    assert not list(store.path.glob(".staging-*"))


def test_corrupt_and_missing_indexes_say_how_to_rebuild(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    with pytest.raises(IndexUnavailable, match="python -m qa ingest PATH --index ghost"):
        IndexStore(tmp_path, "ghost").load(embedder)
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    version = store.path / (store.path / "CURRENT").read_text()
    (version / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        store.load(embedder)
    _ingest(store, [corpus_dir], embedder, rebuild=True)
    assert len(store.load(embedder).articles) == 4


def test_index_built_with_another_embedder_is_refused(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    other = object.__new__(Embedder)
    other.name, other.dim = "some-other-model", 768
    with pytest.raises(IndexUnavailable, match="was built with embedder all-MiniLM-L6-v2.*--rebuild"):
        store.load(other)


def test_invalid_index_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="Invalid index name"):
        IndexStore(tmp_path, "../escape")
