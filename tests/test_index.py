from pathlib import Path

import faiss
import pytest

from qa.answering.evidence_rank import UNFINISHED_PENALTY
from qa.answering.retrieve import Retriever
from qa.errors import IndexUnavailable
from qa.ingest.readers import read_paths
from qa.models.embedder import Embedder
from qa.records import Article
from qa.stores.local.index import IndexStore


def _ingest(store: IndexStore, paths: list[Path], embedder: Embedder, **kw):
    return store.ingest(read_paths(paths).articles, embedder, 600, 1, progress=False, **kw)


def test_ingest_then_reingest_unchanged_adds_nothing(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    store = IndexStore(tmp_path, "news")
    first = _ingest(store, [corpus_dir], embedder)
    assert len(first.added) == 4 and first.chunks_embedded > 0
    index = store.load(embedder)
    assert len(index.articles) == 4 and len(index.chunk_vectors()) == len(index.chunks)
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
    assert len(after.chunk_vectors()) == len(after.chunks) < len(before.chunks) + 5


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
    (store.path / "s000001" / "vectors.faiss").write_bytes(b"garbage")
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


# Every step of an ingest's write, in order: (module attribute, which call crashes).
WRITE_STEPS = [
    ("qa.stores.local.segment._insert_articles", 1),  # articles.sqlite
    ("numpy.save", 1),  # chunks.npy
    ("faiss.write_index", 1),  # vectors.faiss
    ("numpy.save", 2),  # sentence_vectors.npy
    ("qa.stores.local.lexical.LexicalIndex.save", 1),  # lexical/ (the BM25 files)
    ("qa.stores.local.index._fsync", 1),  # flushing the staged segment
    ("os.replace", 1),  # staging folder -> segment folder (written, not committed)
    ("qa.stores.local.index._fsync", ".m000002.json.tmp"),  # flushing the new manifest
    ("os.replace", 2),  # the manifest into place (still not committed)
    ("qa.stores.local.index._fsync", ".CURRENT.tmp"),  # flushing the CURRENT pointer
    ("os.replace", 3),  # the commit point: .CURRENT.tmp -> CURRENT
]


def _crash_on(monkeypatch: pytest.MonkeyPatch, target: str, nth: int | str, after: bool = False) -> None:
    """Crash at the nth call of `target`, or at its call on the file named `nth`."""
    module_name, attribute = target.rsplit(".", 1)
    if module_name.endswith(".LexicalIndex"):
        module_name, owner = module_name.rsplit(".", 1)
        module = getattr(__import__(module_name, fromlist=[owner]), owner)
    else:
        module = __import__(module_name, fromlist=[attribute])
    original = getattr(module, attribute)
    calls = 0

    def crashing(*args, **kwargs):
        nonlocal calls
        calls += 1
        hit = calls == nth if isinstance(nth, int) else Path(args[0]).name == nth
        if hit and not after:
            raise Crash(target)
        result = original(*args, **kwargs)
        if hit and after:
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
    committed = target == "os.replace" and nth == 3 and after
    assert len(loaded.articles) == len(before) + (1 if committed else 0)
    assert set(loaded.articles) >= before and len(loaded.chunk_vectors()) == len(loaded.chunks)
    report = _ingest(store, [corpus_dir], embedder)
    assert len(report.added) == (0 if committed else 1)
    final = store.load(embedder)
    assert len(final.articles) == len(before) + 1
    assert _files(store) == _committed_files(store)  # nothing half-written is left over


def _files(store: IndexStore) -> set[str]:
    return {p.name for p in store.path.iterdir() if p.name != ".lock"}


def _committed_files(store: IndexStore) -> set[str]:
    """CURRENT, the manifest it names and that manifest's segments."""
    import json

    live = (store.path / "CURRENT").read_text().strip()
    segments = json.loads((store.path / live).read_text())["segments"]
    return {"CURRENT", live} | {entry["name"] for entry in segments}


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
    assert len(index.articles) == 12 and len(index.chunk_vectors()) == len(index.chunks)


def test_sentence_vectors_are_stored_once_and_kept_for_unchanged_articles(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    import numpy as np

    store = IndexStore(tmp_path, "news")
    first = _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    assert first.sentences_embedded == index.sentence_count == len(index.segments[0].sentence_vectors)
    for article in index.articles.values():
        plain = [article.sentence(i) for i in range(len(article.sentences))]
        fresh = embedder.encode([*plain, article.title])
        titled = fresh[:-1] + fresh[-1]
        titled /= np.linalg.norm(titled, axis=1, keepdims=True)
        stored = index.stored_sentence_vectors([(article.id, i) for i in range(len(plain))])
        expected = np.stack([fresh[:-1], titled], axis=1)
        # Equal up to int8 rounding: activations are quantised per batch.
        assert (stored * expected).sum(axis=-1).min() > 0.98
    (corpus_dir / "harbour.md").write_text(
        "# Harbour bridge closes\n\nThe bridge closed again. Nobody knows why.\n"
    )
    second = _ingest(store, [corpus_dir], embedder)
    after = store.load(embedder)
    changed = next(a for a in after.articles.values() if a.title == "Harbour bridge closes")
    assert len(second.replaced) == 1 and second.sentences_embedded == len(changed.sentences)
    old = index.articles[changed.id]
    assert after.sentence_count == index.sentence_count - len(old.sentences) + len(changed.sentences)
    kept = next(a for a in after.articles.values() if a.title == "Storm Ada hits the coast")
    rows = [(kept.id, i) for i in range(len(kept.sentences))]
    assert np.array_equal(after.stored_sentence_vectors(rows), index.stored_sentence_vectors(rows))


def test_an_ingest_appends_a_segment_and_leaves_the_others_untouched(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    """Adding one article writes one small segment; the earlier segment's files are the same
    files (same inode, same bytes), and replacing an article hides its old chunks everywhere."""
    from qa.text.terms import terms

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    first = {
        p.name: (p.stat().st_ino, p.read_bytes()) for p in (store.path / "s000001").iterdir() if p.is_file()
    }
    (corpus_dir / "ferry.txt").write_text("Ferry line to Port Elric resumes. The ferry Brisa sails daily.")
    report = _ingest(store, [corpus_dir], embedder)
    assert report.added and report.chunks_embedded == 1 and report.sentences_embedded == 2
    assert {
        p.name: (p.stat().st_ino, p.read_bytes()) for p in (store.path / "s000001").iterdir() if p.is_file()
    } == first
    index = store.load(embedder)
    assert [s.name for s in index.segments] == ["s000001", "s000002"] and len(index.articles) == 5
    hit = index.chunks[index.search(embedder.encode(["When does the ferry Brisa sail?"])[0], 1)[0][0]]
    assert "Brisa" in hit.text

    # Replacing an article: its old chunks are gone from dense and lexical search alike.
    (corpus_dir / "harbour.md").write_text("# Harbour bridge reopens\n\nThe bridge reopened on Friday.\n")
    _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    assert len(index.articles) == 5 and len(index.segments) == 3
    texts = [c.text for c in index.chunks]
    assert not any("Mira Solberg" in t for t in texts) and any("reopened" in t for t in texts)
    every = index.search(embedder.encode(["Mira Solberg harbour bridge"])[0], 100)
    assert len(every) == len(index.chunks) and all(
        "Mira Solberg" not in index.chunks[p].text for p, _ in every
    )
    lexical = index.lexical.search(terms("Mira Solberg"), 100)
    assert all("Mira Solberg" not in index.chunks[p].text for p, _ in lexical)


def test_delete_by_source_and_compaction_keep_search_consistent(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted articles leave search at once; compaction merges segments into one without
    them, reusing the stored vectors (nothing is embedded again)."""
    import numpy as np

    from qa.stores.local import index as index_module

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    for n in range(3):
        (corpus_dir / f"note{n}.txt").write_text(f"Council note {n}. The Tallport council met on day {n}.")
        _ingest(store, [corpus_dir], embedder)
    before = store.load(embedder)
    assert len(before.segments) == 4 and len(before.articles) == 7
    harbour = str(corpus_dir / "harbour.md")
    assert store.delete([harbour, "no-such-article"], embedder) == [Article("", "", harbour).id]
    after = store.load(embedder)
    assert len(after.articles) == 6 and Article("", "", harbour).id not in after.articles
    assert all("Mira Solberg" not in c.text for c in after.chunks)
    assert after.manifest["counts"]["articles"] == 6 and after.chunk_count == len(after.chunk_vectors())

    question = embedder.encode(["When did the Tallport council meet?"])[0]
    ranked = [after.chunks[p].id for p, _ in after.search(question, 5)]
    vectors = {c.id: v for c, v in zip(after.chunks, after.chunk_vectors(), strict=True)}
    store.compact(embedder)
    compacted = store.load(embedder)
    assert len(compacted.segments) == 1 and compacted.manifest["deleted"] == {}
    assert sorted(compacted.articles) == sorted(after.articles)
    assert [compacted.chunks[p].id for p, _ in compacted.search(question, 5)] == ranked
    for chunk, vector in zip(compacted.chunks, compacted.chunk_vectors(), strict=True):
        assert np.array_equal(vector, vectors[chunk.id])
    assert _files(store) == _committed_files(store)

    # Too many segments: an ingest merges the small ones and leaves the largest as it is.
    monkeypatch.setattr(index_module, "MAX_SEGMENTS", 2)
    largest = compacted.segments[0].name
    for n in range(3):
        late = corpus_dir / f"late{n}.txt"
        late.write_text(f"Late note {n}. The ferry Brisa was late on day {n}.")
        report = _ingest(store, [late], embedder)
        assert report.chunks_embedded == 1
    final = store.load(embedder)
    assert len(final.segments) <= 2 and final.segments[0].name == largest
    assert len(final.articles) == len(compacted.articles) + 3 == final.manifest["counts"]["articles"]
    assert _files(store) == _committed_files(store)


def test_duplicate_text_is_judged_against_what_will_be_live(tmp_path: Path, embedder: Embedder) -> None:
    """A mirror of an article's text is a duplicate, also when that article is re-ingested with
    a new title in the same batch; text that an article replaced within a batch is free again."""
    store = IndexStore(tmp_path, "news")
    body = "The quay reopened on Monday. Boats returned at noon."
    store.ingest([Article("Quay reopens", body, "a")], embedder, 600, 1, progress=False)
    report = store.ingest(
        [Article("Quay reopens at last", body, "a"), Article("Quay (mirror)", body, "b")],
        embedder, 600, 1, progress=False,
    )  # fmt: skip
    assert len(report.replaced) == 1 and report.duplicates == ["Quay (mirror) (b)"]
    first, second = "The ferry sails at nine. It is full.", "The ferry sails at ten. It is late."
    report = store.ingest(
        [Article("Ferry", first, "c"), Article("Ferry", second, "c"), Article("Ferry copy", first, "d")],
        embedder, 600, 1, progress=False,
    )  # fmt: skip
    assert report.added == ["Ferry (c)", "Ferry copy (d)"] and report.duplicates == []
    index = store.load(embedder)
    assert sorted(a.text for a in index.articles.values()) == sorted([body, second, first])


def test_an_index_of_the_previous_format_is_converted_on_load(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    """Format 1 (one folder per version, JSONL and one FAISS file) becomes one segment, with
    the same articles and vectors, without embedding anything."""
    import json

    import numpy as np

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    old = tmp_path / "old"
    version = old / "v000003"
    version.mkdir(parents=True)
    with open(version / "articles.jsonl", "w") as handle:
        for article in index.articles.values():
            handle.write(json.dumps(article.to_dict()) + "\n")
    with open(version / "chunks.jsonl", "w") as handle:
        for chunk in index.chunks:
            handle.write(
                json.dumps({"article_id": chunk.article_id, "first": chunk.first, "last": chunk.last}) + "\n"
            )
    flat = faiss.IndexFlatIP(embedder.dim)
    flat.add(index.chunk_vectors())
    faiss.write_index(flat, str(version / "vectors.faiss"))
    np.save(version / "sentence_vectors.npy", np.asarray(index.segments[0].sentence_vectors))
    manifest = {key: index.manifest[key] for key in ("embedder", "chunking")}
    (version / "manifest.json").write_text(json.dumps({"format_version": 1, **manifest}))
    (old / "CURRENT").write_text("v000003")

    converted = IndexStore(tmp_path, "old").load(embedder)
    assert converted.manifest["format_version"] == 2 and len(converted.segments) == 1
    assert [c.id for c in converted.chunks] == [c.id for c in index.chunks]
    assert np.array_equal(converted.chunk_vectors(), index.chunk_vectors())
    assert not version.exists()


def test_the_stored_lexical_index_matches_one_built_from_the_passages(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    """BM25 is saved with each segment, so a load does not re-tokenise; a damaged one is refused."""
    from qa.stores.batch import embedding_text
    from qa.stores.local.lexical import LexicalIndex
    from qa.text.terms import terms

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    built = LexicalIndex.build([embedding_text(index.articles[c.article_id], c) for c in index.chunks])
    for question in ("How many homes lost power in Port Elric?", "Who led the restoration team?"):
        assert index.lexical.search(terms(question), 10) == built.search(terms(question), 10)
        assert index.lexical.search(terms(question), 10)
        for term in terms(question) + ["zzzunknown"]:
            assert index.lexical.idf(term) == pytest.approx(built.idf(term))
    assert index.lexical.search(terms("zzzunknown qqqq"), 10) == []
    (store.path / "s000001" / "lexical" / "passages.json").write_text('{"passages": 1, "bm25": false}')
    with pytest.raises(IndexUnavailable, match="lexical passages 1"):
        store.load(embedder)


def test_a_wrong_sentence_vector_count_is_refused(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    import numpy as np

    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    stored = store.path / "s000001" / "sentence_vectors.npy"
    np.save(stored, np.load(stored)[:-1])
    with pytest.raises(IndexUnavailable, match="sentence vectors"):
        store.load(embedder)


def test_a_large_segment_switches_to_ivf_and_stays_consistent(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the exact-search limit a segment's vectors go into an IVF index: rows still map to
    chunks, answers come from it, and compaction carries every vector over."""
    import numpy as np

    from qa.answering.retrieve import Retriever
    from qa.stores.local import vectors

    monkeypatch.setattr(vectors, "EXACT_LIMIT", 3)
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    index = store.load(embedder)
    assert isinstance(index.segments[0].vectors, faiss.IndexIVF)
    exact = faiss.IndexFlatIP(embedder.dim)
    exact.add(index.chunk_vectors())
    query = embedder.encode(["How many homes lost power in Port Elric?"])[0]
    # With every list probed (few chunks), IVF finds what exact search finds.
    assert [p for p, _ in index.search(query, 3)] == list(exact.search(query.reshape(1, -1), 3)[1][0])
    hit = Retriever(index, embedder).retrieve("How many homes lost power in Port Elric?", 5, 40, 8)
    assert "Port Elric" in hit.evidence[0].article.text

    (corpus_dir / "ferry.txt").write_text("Ferry line to Port Elric resumes. The ferry Brisa sails daily.")
    _ingest(store, [corpus_dir], embedder)
    store.compact(embedder)
    after = store.load(embedder)
    assert len(after.chunks) == len(index.chunks) + 1 and isinstance(
        after.segments[0].vectors, faiss.IndexIVF
    )
    kept = {c.id: v for c, v in zip(index.chunks, index.chunk_vectors(), strict=True)}
    for chunk, vector in zip(after.chunks, after.chunk_vectors(), strict=True):
        if chunk.id in kept:
            assert np.array_equal(kept[chunk.id], vector)


def test_cli_delete_compact_and_indexes(
    tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from qa.cli import main

    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "indexes"))
    assert main(["ingest", str(corpus_dir), "--index", "news"]) == 0
    harbour = str(corpus_dir / "harbour.md")
    assert main(["delete", harbour, "--index", "news"]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert main(["delete", harbour, "--index", "news"]) == 1  # already gone: said, not an error trace
    assert "0 removed, 1 not found" in capsys.readouterr().out
    assert main(["compact", "--index", "news"]) == 0
    assert "1 segment, 3 articles" in capsys.readouterr().out
    assert main(["indexes"]) == 0
    assert "news\t3 articles" in capsys.readouterr().out


def test_articles_built_in_code_are_split_and_empty_ones_skipped(tmp_path: Path, embedder: Embedder) -> None:
    store = IndexStore(tmp_path, "news")
    articles = [
        Article("Quay reopens", "The quay reopened on Monday. Boats returned at noon.", "q"),
        Article(title="Blank", text="   ", source="blank"),
    ]
    report = store.ingest(articles, embedder, 600, 1, progress=False)
    assert len(report.added) == 1 and "Blank (blank): skipped" in report.skipped[0]
    index = store.load(embedder)
    assert [index.articles[a].sentence(1) for a in index.articles] == ["Boats returned at noon."]


def test_a_reload_reuses_the_segments_that_did_not_change(
    tmp_path: Path, corpus_dir: Path, embedder: Embedder
) -> None:
    store = IndexStore(tmp_path, "news")
    _ingest(store, [corpus_dir], embedder)
    first = store.load(embedder)
    (corpus_dir / "ferry.txt").write_text("Ferry line to Port Elric resumes. The ferry Brisa sails daily.")
    _ingest(store, [corpus_dir], embedder)
    second = store.load(embedder, reuse=first)
    assert second.segments[0] is first.segments[0] and len(second.segments) == 2
    store.delete([str(corpus_dir / "harbour.md")])
    third = store.load(embedder, reuse=second)  # the first segment lost an article: reopened
    assert third.segments[0] is not second.segments[0] and third.segments[1] is second.segments[1]
    assert len(third.articles) == len(second.articles) - 1


def test_a_sentence_that_asks_is_never_evidence(tmp_path: Path, embedder: Embedder) -> None:
    """A subhead such as "How many ferries will run?" resembles the reader's question more than
    any answer does, but it answers nothing and cannot be cited."""
    store = IndexStore(tmp_path, "news")
    text = (
        "How many ferries will run between Tallport and Brennick this winter? "
        "The harbour authority said four ferries will run between Tallport and Brennick this winter."
    )
    store.ingest([Article("Ferry timetable", text, "ferries")], embedder, 600, 1, progress=False)
    retrieval = Retriever(store.load(embedder), embedder).retrieve(
        "How many ferries will run between Tallport and Brennick this winter?", 3, 40, 8
    )
    assert [e.text for e in retrieval.evidence] == [
        "The harbour authority said four ferries will run between Tallport and Brennick this winter."
    ]


def test_a_headline_line_ranks_below_the_sentence_that_states_the_fact(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Without its penalty the headline, closer in words to the question, would come first."""
    store = IndexStore(tmp_path, "news")
    text = (
        "Ferries between Tallport and Brennick this winter\n\n"
        "The harbour authority said four ferries a day will sail from Tallport to Brennick from December."
    )
    store.ingest([Article("Ferry news", text, "ferries")], embedder, 600, 1, progress=False)
    question = "How many ferries will sail between Tallport and Brennick this winter?"
    evidence = Retriever(store.load(embedder), embedder).retrieve(question, 3, 40, 8).evidence
    assert [e.text for e in evidence] == [
        "The harbour authority said four ferries a day will sail from Tallport to Brennick from December.",
        "Ferries between Tallport and Brennick this winter",
    ]
    headline, statement = evidence[1], evidence[0]
    assert headline.score + UNFINISHED_PENALTY > statement.score
