"""`python -m qa bench --soak`: many API clients against a running browser app, for a while.

Starts `app.py` on a free loopback port with a private index folder (or uses `--url`), then
N client threads each ask M questions through the app's `/ask` endpoint, as gradio_client
users would. Reports answered / errors / latency p50 and p95 / the app's memory growth.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.errors import QAError

QUESTIONS = [
    "Who is the Chinese foreign ministry spokeswoman?",
    "Who will Xi Jinping meet in Russia?",
    "What does China's plan for Ukraine try to protect?",
    "How do the United States and NATO regard Beijing's mediation?",
    "Who won the 1998 World Cup?",  # not in the seed article: an abstention
]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


@contextlib.contextmanager
def started_app(*options: str, timeout: float = 300) -> Iterator[tuple[str, int]]:
    """The browser app (`python -m qa.ui OPTIONS`, what `app.py` runs) on a free port with a
    private copy of the seed index: (url, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QA_INDEX_DIR": str(Path(tmp) / "indexes"), "HF_HUB_OFFLINE": "1"}
        with open(Path(tmp) / "app.log", "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "qa.ui", "--port", str(port), *options],
                cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + timeout
                while True:
                    if process.poll() is not None:
                        raise QAError(f"the app exited: {(Path(tmp) / 'app.log').read_text()[-1000:]}")
                    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                        break
                    if time.monotonic() > deadline:
                        raise QAError("the app did not start")
                    time.sleep(0.5)
                yield f"http://127.0.0.1:{port}/", process.pid
            finally:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def soak(url: str, pid: int | None, clients: int, questions: int) -> dict:
    """`clients` threads, each asking `questions` questions in turn; every answer is checked
    to be a complete answer (text, and citations unless it abstained)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict(QUESTIONS[0], api_name="/ask")  # warm-up: the model loads on first use
    rss_start = rss_mb(pid) if pid else None
    latencies: list[float] = []
    errors: list[str] = []
    peak = [rss_start or 0.0]
    lock = threading.Lock()

    def run(worker: int) -> None:
        own = Client(url, verbose=False)
        for n in range(questions):
            question = QUESTIONS[(worker + n) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                answer = own.predict(question, api_name="/ask")
                if not answer["text"] or (not answer["abstained"] and not answer["citations"]):
                    raise ValueError(f"incomplete answer to {question!r}")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                if pid:
                    peak[0] = max(peak[0], rss_mb(pid))

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    rss_end = rss_mb(pid) if pid else None
    return {
        "clients": clients,
        "questions_each": questions,
        "answered": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "wall_s": round(wall, 1),
        "questions_per_s": round(len(latencies) / wall, 3),
        "latency_p50_s": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        "latency_p95_s": round(float(np.percentile(latencies, 95)), 2) if latencies else None,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_peak_mb": peak[0] if pid else None,
        "rss_growth_mb": round(rss_end - rss_start, 1) if pid else None,
    }


def run_soak(url: str | None, clients: int, questions: int) -> dict:
    if url:
        return soak(url, None, clients, questions)
    with started_app() as (app_url, pid):
        return soak(app_url, pid, clients, questions)


def soak_table(r: dict) -> str:
    rows = [
        ("clients x questions", f"{r['clients']} x {r['questions_each']}"),
        ("answered / errors", f"{r['answered']} / {r['errors']}"),
        ("wall time (s), questions/s", f"{r['wall_s']}, {r['questions_per_s']}"),
        ("latency p50 / p95 (s, queued)", f"{r['latency_p50_s']} / {r['latency_p95_s']}"),
        ("app RSS start / end / peak (MB)", f"{r['rss_start_mb']} / {r['rss_end_mb']} / {r['rss_peak_mb']}"),
        ("app RSS growth (MB)", str(r["rss_growth_mb"])),
    ]
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a.ljust(width)}  {b}" for a, b in rows)
