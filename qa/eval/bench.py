"""`python -m qa bench`: indexing throughput, answer latency and vector-search latency."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from qa.answering.answer import Answer
from qa.answering.assistant import Assistant
from qa.config import PROJECT_ROOT, Settings
from qa.eval.run import corpus_index_name, ensure_index, load_pack
from qa.ingest.readers import read_paths
from qa.models.embedder import Embedder
from qa.stores import add_articles
from qa.stores.batch import embedding_text
from qa.stores.local.index import IndexStore
from qa.stores.local.vectors import build_vector_index, kind
from qa.text.sentences import chunk_article

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
    """Time a full ingest into index `name` (passages and sentence vectors), then the raw
    encode of the same passage texts alone, by the configured runtime and by torch."""
    read = read_paths(corpus)
    articles = read.articles
    started = time.perf_counter()
    store = IndexStore(settings.index_dir, name)
    report = add_articles(store, read, embedder, settings, rebuild=True, progress=False)
    ingest_s = time.perf_counter() - started
    by_id = {a.id: a for a in articles}
    texts = [
        embedding_text(by_id[c.article_id], c)
        for a in articles
        for c in chunk_article(a, settings.chunk_chars, settings.chunk_overlap)
    ]
    raw = {embedder.runtime: _encode_seconds(embedder, texts)}
    if embedder.runtime != "torch":
        torch_embedder = Embedder(settings.embedder_folder, "torch", settings.n_threads)
        raw["torch"] = _encode_seconds(torch_embedder, texts)
    return {
        "articles": len(articles),
        "chunks": report.chunks_embedded,
        "sentences": report.sentences_embedded,
        "runtime": embedder.runtime,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(report.chunks_embedded / ingest_s, 1),
        **{f"raw_encode_chunks_per_s_{name}": round(len(texts) / s, 1) for name, s in raw.items()},
        "ingest_vs_raw_torch_encode": round(raw["torch"] / ingest_s, 3),
    }


def _encode_seconds(embedder: Embedder, texts: list[str]) -> float:
    embedder.encode(texts[:8])  # warm-up
    started = time.perf_counter()
    embedder.encode(texts)
    return time.perf_counter() - started


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


def scaled_vectors(base: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` unit vectors shaped like real passages: each a real passage vector plus Gaussian
    noise (cosine ~0.9 to its source), so the set keeps the clustering of real news topics
    that IVF relies on, unlike uniform random vectors."""
    rows = base[rng.integers(0, len(base), size)]
    noise = rng.standard_normal(rows.shape, dtype=np.float32) * float(0.5 / np.sqrt(base.shape[1]))
    noisy = np.ascontiguousarray(rows + noise, dtype=np.float32)
    faiss.normalize_L2(noisy)
    return noisy


def bench_search(sizes: list[int], base: np.ndarray, queries: int = 50) -> dict:
    """Search p50 at each size for the index the assistant would build (exact up to
    EXACT_LIMIT, IVF beyond), with IVF's recall@10 against exact search on the same vectors."""
    rng = np.random.default_rng(0)
    results = {}
    for size in sizes:
        vectors = scaled_vectors(base, size, rng)
        probes = scaled_vectors(base, queries, rng)
        started = time.perf_counter()
        index = build_vector_index(vectors, base.shape[1])
        build_s = time.perf_counter() - started
        exact = faiss.IndexFlatIP(base.shape[1])
        exact.add(vectors)
        del vectors
        row = {"index": kind(index), "build_s": round(build_s, 1)}
        for name, searched in (("search", index), ("exact", exact)):
            timings, found = [], []
            for probe in probes:
                started = time.perf_counter()
                found.append(searched.search(probe.reshape(1, -1), 40)[1][0][:10])
                timings.append(time.perf_counter() - started)
            row[f"{name}_p50_ms"] = round(_percentile(timings, 50) * 1000, 3)
            row[f"{name}_top10"] = found
        pairs = zip(row.pop("search_top10"), row.pop("exact_top10"), strict=True)
        hits = [_recall(np.asarray(found), np.asarray(truth)) for found, truth in pairs]
        row["recall_at_10"] = round(float(np.mean(hits)), 4)
        results[str(size)] = row
        del index, exact
    return results


def ivf_recall(pack_dirs: list[Path], nprobes: tuple[int, ...] = (8, 16, 32, 64, 128)) -> dict:
    """Recall@10 of the IVF index the assistant builds beyond EXACT_LIMIT, against exact search,
    on real data: every passage vector of the packs' indexes, queried with their questions."""
    settings = Settings.from_env()
    embedder = Embedder.from_settings(settings)
    vectors, questions = [], []
    for pack_dir in pack_dirs:
        pack = load_pack(pack_dir)
        index = IndexStore(settings.index_dir, ensure_index(pack, settings, embedder)).load(embedder)
        vectors.append(index.chunk_vectors())
        questions += [q.question for q in pack.questions]
        index.close()
    passages = np.concatenate(vectors)
    probes = embedder.encode(questions)
    ivf = build_vector_index(passages, passages.shape[1], exact_limit=0)
    exact = faiss.IndexFlatIP(passages.shape[1])
    exact.add(passages)
    truth = exact.search(probes, 10)[1]
    used = ivf.nprobe
    results = {"passages": len(passages), "questions": len(questions), "lists": ivf.nlist, "nprobe": used}
    for nprobe in sorted({*nprobes, used}):
        ivf.nprobe = nprobe
        found = ivf.search(probes, 10)[1]
        recall = np.mean([_recall(a, b) for a, b in zip(found, truth, strict=True)])
        results[f"recall_at_10_nprobe_{nprobe}"] = round(float(recall), 4)
    return results


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top ids (FAISS pads with -1 when there are fewer) that were found."""
    wanted = {int(i) for i in truth if i >= 0}
    return len(wanted & {int(i) for i in found}) / max(1, len(wanted))


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
        base = assistant.index.chunk_vectors() if pack_dir is not None else None
        if base is None or not len(base):
            base = np.random.default_rng(1).standard_normal((1000, assistant.embedder.dim), dtype=np.float32)
        results["search"] = bench_search(sizes, base)
    results["table"] = _table(results)
    return results


def _table(r: dict) -> str:
    rows = [("measure", "value")]
    for key in ("ingest_seeds", "ingest_pack"):
        if key in r:
            m = r[key]
            raw = ", ".join(
                f"{k.removeprefix('raw_encode_chunks_per_s_')} {v}"
                for k, v in m.items() if k.startswith("raw_encode_chunks_per_s_")
            )  # fmt: skip
            rows.append(
                (f"{key}: chunks/s with sentence vectors (raw encode of the chunks alone)",
                 f"{m['ingest_chunks_per_s']} ({raw}; vs torch {m['ingest_vs_raw_torch_encode']}x)")
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
        rows.append(
            (f"search p50 at {int(size):,} chunks, {m['index']} (ms; exact ms; recall@10)",
             f"{m['search_p50_ms']}; {m['exact_p50_ms']}; {m['recall_at_10']}")
        )  # fmt: skip
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a.ljust(width)}  {b}" for a, b in rows)
