"""Ingest on a local Ray (`python -m qa ingest PATH --ray`): the same index as a plain ingest."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa.answering.retrieve import Retriever
from qa.cli import main
from qa.config import Settings
from qa.models.embedder import Embedder
from qa.stores.local.index import IndexStore

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray for the module (starting one takes seconds); the CLI reuses it."""
    from qa.ingest.on_ray import ray_session

    with ray_session(None, 2):
        yield


def _rows_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.reshape(-1, a.shape[-1]).astype(np.float32)
    b = b.reshape(-1, b.shape[-1]).astype(np.float32)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_ray_ingest_builds_the_index_a_plain_ingest_builds(
    local_ray: None, tmp_path: Path, corpus_dir: Path, embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    (corpus_dir / "broken.jsonl").write_text(
        '{"title": "Half a line"\n'
        '{"title": "Ferry", "url": "https://example.org/ferry", "text": "The ferry left."}\n'
    )
    (corpus_dir / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "indexes"))

    assert main(["ingest", str(corpus_dir), "--index", "plain"]) == 0
    plain_output = capsys.readouterr()
    assert main(["ingest", str(corpus_dir), "--index", "onray", "--ray", "--workers", "2"]) == 0
    ray_output = capsys.readouterr()
    assert ray_output.out.replace("onray", "plain") == plain_output.out

    def messages(err: str) -> list[str]:  # what was skipped and why (not progress bars)
        return [line for line in err.splitlines() if line.startswith(("warning:", "note:"))]

    assert messages(ray_output.err) == messages(plain_output.err)
    assert "broken.jsonl:1" in ray_output.err and "photo.txt" in ray_output.err

    store_plain, store_ray = (IndexStore(tmp_path / "indexes", name) for name in ("plain", "onray"))
    plain, onray = store_plain.load(embedder), store_ray.load(embedder)
    assert [a.to_dict() for a in onray.articles.values()] == [a.to_dict() for a in plain.articles.values()]
    assert [c.id for c in onray.chunks] == [c.id for c in plain.chunks]
    # The same model on other processes, in other batches: int8 activations are quantised per
    # batch, so vectors agree to rounding, not bit for bit.
    assert _rows_cosine(onray.chunk_vectors(), plain.chunk_vectors()).min() > 0.97
    keys = [(a.id, i) for a in plain.articles.values() for i in range(len(a.sentences))]
    sentence_cosine = _rows_cosine(onray.stored_sentence_vectors(keys), plain.stored_sentence_vectors(keys))
    assert sentence_cosine.min() > 0.97
    question = "Who led the restoration of the harbour bridge?"
    settings = Settings.from_env()
    for index in (plain, onray):
        retrieval = Retriever(index, embedder).retrieve(question, 3, settings.candidates, 4)
        assert "Mira Solberg" in retrieval.evidence[0].text

    # Written through the same store: an unchanged folder adds nothing, a changed file replaces itself.
    (corpus_dir / "harbour.md").write_text("# Bridge closes\n\nThe Tallport bridge closed on Friday.\n")
    assert main(["ingest", str(corpus_dir), "--index", "onray", "--ray"]) == 0
    assert "0 added, 1 replaced, 4 unchanged" in capsys.readouterr().out
    plain.close()
    onray.close()


def test_ray_ingest_reports_bad_settings_clearly(
    tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "indexes"))
    assert main(["ingest", str(corpus_dir), "--ray", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert main(["ingest", str(corpus_dir), "--ray"]) == 2
    assert "pip install 'qa-news[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "indexes").exists() or not any((tmp_path / "indexes").iterdir())
