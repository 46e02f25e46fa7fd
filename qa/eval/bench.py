"""`python -m qa bench`: indexing throughput, answer latency and vector-search latency."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from qa.answer import Answer
from qa.assistant import Assistant
from qa.config import PROJECT_ROOT, Settings
from qa.embed import Embedder
from qa.eval.run import corpus_index_name, load_pack
from qa.index import IndexStore, embedding_text
from qa.ingest import read_paths
from qa.split import chunk_article

DEFAULT_PACKS = PROJECT_ROOT.parent / "shared" / "evalsets" / "realtimeqa-dev"
SEED_QUESTIONS = [
    "Who is the Chinese foreign ministry spokeswoman?",
    "Who will Xi Jinping meet in Russia?",
    "What does China's plan try to protect?",
    "When did Putin visit Beijing?",
    "What did the Kremlin statement not mention?",
    "Who may Xi call after his visit?",
    "How do the United States and NATO regard Beijing's mediation?",
    "What does Moscow call the invasion of Ukraine?",
    "How long since Xi last visited Russia?",
    "What will the two presidents discuss?",
]


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 4) if values else float("nan")


def bench_ingest(corpus: list[Path], embedder: Embedder, settings: Settings, name: str) -> dict:
    """Time a full ingest into index `name`, then raw encoding of the same passage texts."""
    articles = read_paths(corpus).articles
    started = time.perf_counter()
    report = IndexStore(settings.index_dir, name).ingest(
        articles, embedder, settings.chunk_chars, settings.chunk_overlap, rebuild=True, progress=False
    )
    ingest_s = time.perf_counter() - started
    by_id = {a.id: a for a in articles}
    texts = [
        embedding_text(by_id[c.article_id], c)
        for a in articles
        for c in chunk_article(a, settings.chunk_chars, settings.chunk_overlap)
    ]
    started = time.perf_counter()
    embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
    encode_s = time.perf_counter() - started
    return {
        "articles": len(articles),
        "chunks": report.chunks_embedded,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(report.chunks_embedded / ingest_s, 1),
        "raw_encode_s": round(encode_s, 2),
        "raw_encode_chunks_per_s": round(len(texts) / encode_s, 1),
        "ingest_vs_raw_encode": round(encode_s / ingest_s, 3),
    }


def bench_ask(assistant: Assistant, questions: list[str]) -> dict:
    assistant.ask(questions[0])  # warm-up: model load and first-call allocations
    latencies, first_tokens = [], []
    for question in questions:
        started = time.perf_counter()
        first = None
        for event in assistant.stream(question):
            if first is None and not isinstance(event, Answer):
                first = time.perf_counter() - started
        latencies.append(time.perf_counter() - started)
        first_tokens.append(first if first is not None else latencies[-1])
    return {
        "questions": len(questions),
        "latency_p50_s": _percentile(latencies, 50),
        "latency_p95_s": _percentile(latencies, 95),
        "first_token_p50_s": _percentile(first_tokens, 50),
    }


def bench_search(sizes: list[int], dim: int, queries: int = 30) -> dict:
    """Exact inner-product search (IndexFlatIP, what the assistant uses) on random unit vectors."""
    rng = np.random.default_rng(0)
    results = {}
    for size in sizes:
        index = faiss.IndexFlatIP(dim)
        for start in range(0, size, 100_000):
            block = rng.standard_normal((min(100_000, size - start), dim), dtype=np.float32)
            faiss.normalize_L2(block)
            index.add(block)
        probes = rng.standard_normal((queries, dim), dtype=np.float32)
        faiss.normalize_L2(probes)
        timings = []
        for probe in probes:
            started = time.perf_counter()
            index.search(probe.reshape(1, -1), 40)
            timings.append(time.perf_counter() - started)
        results[str(size)] = {"search_p50_ms": round(_percentile(timings, 50) * 1000, 3)}
        del index
    return results


def run_bench(pack_dir: Path | None, sizes: list[int]) -> dict:
    settings = Settings.from_env()
    if pack_dir is None and DEFAULT_PACKS.is_dir():
        pack_dir = sorted(p for p in DEFAULT_PACKS.iterdir() if p.is_dir())[0]
    with tempfile.TemporaryDirectory() as tmp:
        bench_settings = settings.replace(index_dir=Path(tmp))
        assistant = Assistant(settings=bench_settings)  # builds the seed index in tmp
        results: dict = {"model": assistant.generator.name, "embedder": assistant.embedder.name}
        results["ask_seed"] = bench_ask(assistant, SEED_QUESTIONS)
        if pack_dir is not None:
            pack = load_pack(pack_dir)
            results["pack"] = pack.name
            # Ingested under the eval's cache name, so the pack is embedded once.
            name = corpus_index_name(pack, bench_settings, assistant.embedder)
            results["ingest_pack"] = bench_ingest(pack.corpus, assistant.embedder, bench_settings, name)
            assistant.use_index(name)
            results["ask_pack"] = bench_ask(assistant, [q.question for q in pack.questions[:10]])
        results["ingest_seeds"] = bench_ingest(
            [settings.seeds_dir], assistant.embedder, bench_settings, "bench-seeds"
        )
        results["search"] = bench_search(sizes, assistant.embedder.dim)
    results["table"] = _table(results)
    return results


def _table(r: dict) -> str:
    rows = [("measure", "value")]
    for key in ("ingest_seeds", "ingest_pack"):
        if key in r:
            m = r[key]
            rows.append(
                (f"{key}: chunks/s (raw encode chunks/s, ratio)",
                 f"{m['ingest_chunks_per_s']} ({m['raw_encode_chunks_per_s']}, {m['ingest_vs_raw_encode']})")
            )  # fmt: skip
            rows.append((f"{key}: total s for {m['articles']} articles", str(m["ingest_s"])))
    for key in ("ask_seed", "ask_pack"):
        if key in r:
            m = r[key]
            rows.append(
                (f"{key}: latency p50 / p95 / first token p50 (s)",
                 f"{m['latency_p50_s']} / {m['latency_p95_s']} / {m['first_token_p50_s']}")
            )  # fmt: skip
    for size, m in r["search"].items():
        rows.append((f"search p50 at {int(size):,} chunks (ms)", str(m["search_p50_ms"])))
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a.ljust(width)}  {b}" for a, b in rows)
