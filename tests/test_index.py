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


class Crash(BaseException):
    """A crash at one step of an index write (BaseException: nothing may swallow it)."""


# Every step of `IndexStore._write_version`, in order: (module attribute, which call crashes).
WRITE_STEPS = [
    ("qa.index._write_jsonl", 1),  # articles.jsonl
    ("qa.index._write_jsonl", 2),  # chunks.jsonl
    ("faiss.write_index", 1),  # vectors.faiss
    ("qa.index._fsync", 1),  # flushing the staged files
    ("os.replace", 1),  # staging folder -> version folder
    ("qa.index._fsync", 5),  # flushing the CURRENT pointer (4 staged files before it)
    ("os.replace", 2),  # the commit point: .CURRENT.tmp -> CURRENT
]


def _crash_on(monkeypatch: pytest.MonkeyPatch, target: str, nth: int, after: bool = False) -> None:
    module_name, attribute = target.rsplit(".", 1)
    module = __import__(module_name, fromlist=[attribute])
    original = getattr(module, attribute)
    calls = 0

    def crashing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == nth and not after:
            raise Crash(target)
        result = original(*args, **kwargs)
        if calls == nth and after:
            raise Crash(target)
        return result

    monkeypatch.setattr(module, attribute, crashing)


@pytest.mark.parametrize(("target", "nth"), WRITE_STEPS)
@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_a_crash_at_any_step_of_a_write_leaves_one_consistent_version(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
    target: str, nth: int, after: bool,
) -> None:  # fmt: skip
    """Before the commit point readers see the previous version, from it the new one; either
    way the index loads and the next ingest completes."""
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    before = set(store.load(embedder).articles)
    (corpus_dir / "ferry.txt").write_text("Ferry line to Port Elric resumes. The ferry Brisa sails daily.")
    _crash_on(monkeypatch, target, nth, after)
    with pytest.raises(Crash):
        _ingest(store, [corpus_dir], embedder)
    monkeypatch.undo()
    loaded = store.load(embedder)
    committed = target == "os.replace" and nth == 2 and after
    assert len(loaded.articles) == len(before) + (1 if committed else 0)
    assert set(loaded.articles) >= before and loaded.vectors.ntotal == len(loaded.chunks)
    report = _ingest(store, [corpus_dir], embedder)
    assert len(report.added) == (0 if committed else 1)
    final = store.load(embedder)
    assert len(final.articles) == len(before) + 1
    live = (store.path / "CURRENT").read_text().strip()
    assert sorted(p.name for p in store.path.iterdir() if p.name != ".lock") == ["CURRENT", live]


def test_concurrent_writers_lose_nothing(tmp_path: Path, embedder: Embedder) -> None:
    import threading

    folders = []
    for n in range(4):
        folder = tmp_path / f"batch{n}"
        folder.mkdir()
        for m in range(3):
            (folder / f"a{m}.txt").write_text(
                f"Report {n}-{m} from Tallport. Harbour crane {n}{m} was repaired."
            )
        folders.append(folder)
    store = IndexStore(tmp_path / "indexes", "news")
    errors: list[BaseException] = []

    def write(folder: Path) -> None:
        try:
            _ingest(IndexStore(tmp_path / "indexes", "news"), [folder], embedder)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f,)) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    index = store.load(embedder)
    assert len(index.articles) == 12 and index.vectors.ntotal == len(index.chunks)


def test_sentence_vectors_are_stored_once_and_kept_for_unchanged_articles(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    import numpy as np

    from qa.index import sentence_texts

    store = IndexStore(tmp_path, "news")
    first = _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    assert first.sentences_embedded == index.sentence_count == len(index.sentence_vectors)
    for article in index.articles.values():
        plain, titled = sentence_texts(article)
        fresh = embedder.encode(plain + titled)
        keys = [(article.id, i) for i in range(len(plain))]
        stored = index.stored_sentence_vectors(keys)
        expected = np.stack([fresh[: len(plain)], fresh[len(plain) :]], axis=1)
        assert (stored * expected).sum(axis=-1).min() > 0.999
    (corpus_dir / "harbour.md").write_text(
        "# Harbour bridge closes\n\nThe bridge closed again. Nobody knows why.\n"
    )
    second = _ingest(store, [corpus_dir], embedder)
    after = store.load(embedder)
    changed = next(a for a in after.articles.values() if a.title == "Harbour bridge closes")
    assert len(second.replaced) == 1 and second.sentences_embedded == len(changed.sentences)
    kept = next(a for a in after.articles.values() if a.title == "Storm Ada hits the coast")
    rows = [(kept.id, i) for i in range(len(kept.sentences))]
    assert np.array_equal(after.stored_sentence_vectors(rows), index.stored_sentence_vectors(rows))


def test_retrieval_is_the_same_from_stored_and_from_fresh_sentence_vectors(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    from qa.retrieve import Retriever

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    stored = store.load(embedder)
    older = store.load(embedder)
    older.sentence_vectors = None  # as an index written before vectors were stored
    for question in ("How many homes lost power in Port Elric?", "Who led the restoration team?"):
        a = Retriever(stored, embedder).retrieve(question, 5, 40, 8)
        b = Retriever(older, embedder).retrieve(question, 5, 40, 8)
        assert [e.text for e in a.sentences[:3]] == [e.text for e in b.sentences[:3]]
        assert all(abs(x.score - y.score) < 0.01 for x, y in zip(a.sentences, b.sentences, strict=True))


def test_an_index_without_sentence_vectors_still_loads_and_a_wrong_count_is_refused(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    import numpy as np

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    version = store.path / (store.path / "CURRENT").read_text().strip()
    vectors = np.load(version / "sentence_vectors.npy")
    np.save(version / "sentence_vectors.npy", vectors[:-1])
    with pytest.raises(IndexUnavailable, match="sentence vectors of shape"):
        store.load(embedder)
    (version / "sentence_vectors.npy").unlink()
    assert store.load(embedder).sentence_vectors is None
