"""`python -m qa bench --scale N[,N...]`: storage and search at sizes nobody embeds on 2 cores.

An index of N passages is built as one segment from a real pack: its articles repeated, copy k
under its own source and with "[k]" added to its title (so BM25 sees distinct passages), its
passage vectors the real ones plus Gaussian noise (cosine ~0.9 to the original, so dense search
faces N distinct vectors clustered like real news) and its stored sentence vectors reused.
Then a fresh process (so its memory is what a user's process holds) measures: index load time,
dense and full retrieval p50, ask p50 on the pack's questions, the time to add one new article
(a real ingest: embedding, a new segment, the commit, the reload) and peak RSS.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.eval.bench import DEFAULT_PACKS, _percentile, bench_ask, scaled_vectors
from qa.eval.run import ensure_index, load_pack
from qa.ingest.readers import ReadResult
from qa.records import Article
from qa.stores.local.index import IndexStore
from qa.text.terms import terms


def run_scale(pack_dir: Path | None, sizes: list[int]) -> dict:
    from qa.models.embedder import Embedder

    settings = Settings.from_env()
    if pack_dir is None:
        pack_dir = sorted(p for p in DEFAULT_PACKS.iterdir() if p.is_dir())[0]
    pack = load_pack(pack_dir)
    embedder = Embedder.from_settings(settings)
    base = IndexStore(settings.index_dir, ensure_index(pack, settings, embedder)).load(embedder)
    results: dict = {"pack": pack.name, "base_chunks": base.chunk_count, "sizes": {}}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            build_scaled_index(base, embedder, Path(tmp), f"scale-{size}", size)
            build_s = time.perf_counter() - started
            child = subprocess.run(
                [sys.executable, "-m", "qa.eval.scale", tmp, f"scale-{size}", str(pack_dir)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if child.returncode != 0:
                raise RuntimeError(f"scale measurement failed at {size}: {child.stderr[-2000:]}")
            results["sizes"][str(size)] = {"build_s": round(build_s, 1), **json.loads(child.stdout)}
    results["table"] = _table(results)
    return results


def build_scaled_index(base, embedder, root: Path, name: str, size: int) -> None:  # noqa: ANN001
    """Write `size` passages as one committed segment (see the module docstring). Memory stays
    near the size of the result: copies share their text and token lists, and the sentence
    vectors are filled into a file on disk."""
    (segment,) = base.segments if len(base.segments) == 1 else (None,)
    if segment is None:
        raise ValueError("the base index must be one segment: run python -m qa compact first")
    rows = [row for row, _ in segment.live_articles()]
    originals = [segment.article(row) for row in rows]
    position = {row: n for n, row in enumerate(rows)}
    table = [(position[int(a)], int(f), int(last)) for a, f, last in segment.chunk_table[segment.live_rows]]
    vectors = segment.live_vectors()
    body_terms = [terms(originals[a].span_text(f, last)) for a, f, last in table]
    title_terms = [terms(article.title) for article in originals]
    sentence_rows = [
        (segment.first_sentence(row), len(a.sentences)) for row, a in zip(rows, originals, strict=True)
    ]
    copies = math.ceil(size / len(table))
    sentences_per_copy = sum(count for _, count in sentence_rows)
    rng = np.random.default_rng(0)
    articles, chunks, passage_terms, chunk_vector_parts = [], [], [], []
    sentence_vectors = np.lib.format.open_memmap(
        root / "sentence_vectors.tmp.npy", mode="w+", dtype=np.float16,
        shape=(copies * sentences_per_copy, 2, vectors.shape[1]),
    )  # fmt: skip
    for copy in range(copies):
        offset = len(articles)
        suffix = terms(f"[{copy}]") if copy else []
        for article in originals:
            articles.append(
                Article(
                    title=f"{article.title} [{copy}]" if copy else article.title,
                    text=article.text, source=f"{article.source}#copy{copy}",
                    published=article.published, sentences=article.sentences,
                )
            )  # fmt: skip
        chunks += [(offset + a, f, last) for a, f, last in table]
        passage_terms += [
            title_terms[a] + suffix + body for (a, _, _), body in zip(table, body_terms, strict=True)
        ]
        chunk_vector_parts.append(scaled_vectors(vectors, len(vectors), rng) if copy else vectors)
        row = copy * sentences_per_copy
        for start, count in sentence_rows:
            sentence_vectors[row : row + count] = segment.sentence_vectors[start : start + count]
            row += count
    chunking = base.manifest["chunking"]
    IndexStore(root, name).write_bulk(
        articles, chunks[:size], np.concatenate(chunk_vector_parts)[:size], sentence_vectors, embedder,
        chunking["chunk_chars"], chunking["chunk_overlap"], passage_terms[:size],
    )  # fmt: skip
    del sentence_vectors
    (root / "sentence_vectors.tmp.npy").unlink()


def measure(index_dir: Path, name: str, pack_dir: Path) -> dict:
    """Run in a fresh process: load, search, ask, add one article, peak memory."""
    from qa.answering.assistant import Assistant

    settings = Settings.from_env().replace(index_dir=index_dir, index=name)
    pack = load_pack(pack_dir)
    started = time.perf_counter()
    index = IndexStore(index_dir, name).load()
    load_s = time.perf_counter() - started
    index.close()
    assistant = Assistant(settings=settings)
    questions = [q.question for q in pack.questions[:10]]
    dense, lexical, retrieval = [], [], []
    for question in questions:
        vector = assistant.embedder.encode([question])[0]
        started = time.perf_counter()
        assistant.index.search(vector, settings.candidates)
        dense.append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.index.lexical.search(terms(question), settings.candidates)
        lexical.append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.retrieve(question)
        retrieval.append(time.perf_counter() - started)
    ask = bench_ask(assistant, questions)
    original = assistant.index.segments[0].article(0)
    new = Article(
        title=f"{original.title} (follow-up)", source=f"{original.source}#follow-up",
        text=original.text + "\n\nThis follow-up was added by the scale benchmark.",
        published=original.published,
    )  # fmt: skip
    started = time.perf_counter()
    report = assistant.add(ReadResult(articles=[new]), progress=False)
    assert report.added, report.summary()
    add_s = time.perf_counter() - started
    return {
        "chunks": assistant.index.chunk_count,
        "vector_index": [s.vectors.__class__.__name__ for s in assistant.index.segments],
        "load_s": round(load_s, 2),
        "dense_search_p50_ms": round(_percentile(dense, 50) * 1000, 2),
        "lexical_search_p50_ms": round(_percentile(lexical, 50) * 1000, 2),
        "retrieval_p50_ms": round(_percentile(retrieval, 50) * 1000, 1),
        "ask_p50_s": ask["latency_p50_s"],
        "add_one_article_s": round(add_s, 2),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's peak,
    which Linux carries across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def _table(results: dict) -> str:
    keys = ["build_s", "load_s", "dense_search_p50_ms", "lexical_search_p50_ms", "retrieval_p50_ms",
            "ask_p50_s", "add_one_article_s", "peak_rss_mb"]  # fmt: skip
    sizes = list(results["sizes"])
    rows = [["passages"] + [f"{int(s):,}" for s in sizes]]
    rows += [[key] + [str(results["sizes"][s][key]) for s in sizes] for key in keys]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))))
