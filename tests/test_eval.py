import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.config import PROJECT_ROOT, Settings
from qa.eval.metrics import Verdict, aggregate, citation_scores, is_correct, supports, token_f1


def test_answer_match_is_whole_word_and_normalised() -> None:
    assert is_correct("Iran [1]", ["Iran"])
    assert not is_correct("Iranian officials [1]", ["Iran"])
    assert is_correct("the new york times", ["New York"])
    assert is_correct("Café Müller, in Berlin.", ["cafe muller"])
    assert not is_correct("Iran", ["Iran"], abstained=True)


def test_answers_over_forty_words_are_wrong() -> None:
    forty = "Paris " + " ".join(["word"] * 39)
    assert is_correct(forty, ["Paris"])
    assert not is_correct(forty + " more", ["Paris"])
    assert is_correct(forty + " [1] [2]", ["Paris"])  # markers are not words


def test_token_f1() -> None:
    assert token_f1("Joe Biden", ["President Joe Biden"]) == pytest.approx(0.8)
    assert token_f1("nothing here", ["Paris"]) == 0.0
    assert token_f1("Paris", ["Lyon", "Paris"]) == 1.0


def test_lexical_citation_judge() -> None:
    question = "Which city hosted the summit on climate finance?"
    good = "The summit on climate finance was hosted by Nairobi on Monday."
    off_topic = "Nairobi has a population of about five million."
    assert supports([good], question, "Nairobi")
    assert not supports([off_topic], question, "Nairobi")
    assert citation_scores(question, "Nairobi", [good, off_topic]) == (1.0, 0.5)
    assert citation_scores(question, "Nairobi", []) == (0.0, 0.0)


def test_aggregate_rates() -> None:
    def verdict(answerable: bool, abstained: bool, correct: bool) -> Verdict:
        return Verdict(answerable, abstained, correct, float(correct), True, correct, 1.0, 1.0, 1.0, 2)

    metrics = aggregate(
        [verdict(True, False, True), verdict(True, True, False), verdict(False, True, False),
         verdict(False, False, False)]
    )  # fmt: skip
    assert metrics["n"] == 4 and metrics["n_answerable"] == 2
    assert metrics["answer_accuracy"] == 0.5
    assert metrics["answer_rate_answerable"] == 0.5
    assert metrics["abstain_rate_unanswerable"] == 0.5
    assert metrics["citation_support"] == 1.0


def test_aggregate_says_where_answers_were_lost() -> None:
    def verdict(in_evidence: bool, offered: bool, correct: bool) -> Verdict:
        return Verdict(True, False, correct, 0.0, True, correct, 1.0, 1.0, 1.0, 2, in_evidence, offered)

    metrics = aggregate(
        [verdict(False, False, False), verdict(True, False, False), verdict(True, True, False),
         verdict(True, True, True)]
    )  # fmt: skip
    assert metrics["gold_in_evidence"] == 0.75
    assert metrics["choice_ceiling"] == 0.5
    assert metrics["answer_accuracy"] == 0.25


METRIC_KEYS = """n n_answerable answer_accuracy token_f1 evidence_recall_at_5 gold_in_evidence choice_ceiling
citation_support
citation_precision citation_recall answer_rate_answerable abstain_rate_unanswerable latency_p50_s
latency_p95_s mean_answer_words""".split()


def _write_pack(folder: Path) -> Path:
    folder.mkdir(parents=True)
    articles = [
        {"id": "a1", "title": "Harbour bridge reopens in Tallport", "url": "https://example.org/bridge",
         "published": "2026-03-02", "text": "The Lindqvist bridge in Tallport reopened on Monday after "
         "two years of repairs. Engineer Mira Solberg led the restoration team. Traffic resumed at noon."},
        {"id": "a2", "title": "Chess prodigy wins national title", "url": "https://example.org/chess",
         "published": "2026-02-01", "text": "Ten-year-old Maria Carvalho won the national chess title in "
         "Braga. She beat three grandmasters on the way to the title."},
    ]  # fmt: skip
    questions = [
        {"id": "q1", "question": "Which engineer led the restoration of the Lindqvist bridge?",
         "answers": ["Mira Solberg"], "answerable": True},
        {"id": "q2", "question": "Who won the national chess title in Braga?",
         "answers": ["Maria Carvalho"], "answerable": True},
        {"id": "q3", "question": "What is the boiling point of liquid nitrogen in kelvin?",
         "answers": ["77"], "answerable": False},
    ]  # fmt: skip
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n")
    return folder


def test_eval_command_end_to_end(tmp_path: Path, settings: Settings) -> None:
    pack = _write_pack(tmp_path / "tinypack")
    report = tmp_path / "report"
    env = {"QA_INDEX_DIR": str(tmp_path / "indexes"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "qa", "eval", str(pack), "--report", str(report)]
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True)
    metrics = json.loads((report / "metrics.json").read_text())
    for key in METRIC_KEYS:
        assert key in metrics and key in metrics["packs"]["tinypack"]
    assert metrics["n"] == 3 and metrics["n_answerable"] == 2
    assert metrics["evidence_recall_at_5"] == 1.0
    assert metrics["answer_accuracy"] == 1.0
    assert metrics["abstain_rate_unanswerable"] == 1.0
    assert metrics["gold_in_evidence"] == 1.0 and metrics["choice_ceiling"] == 1.0
    rows = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rows} == {"q1", "q2", "q3"}
    fields = {"question", "gold", "answer", "citations", "retrieved", "considered", "verdict", "latency_s"}
    assert all(fields <= set(r) for r in rows)
    # The candidates ranked for a phrase answer are listed best first: the answer is the first.
    phrases = [r for r in rows if r["kind"] == "phrase"]
    assert phrases and all(r["answer"].startswith(r["considered"][0]) for r in phrases)
    text = (report / "report.md").read_text()
    assert text.startswith("# Evaluation report") and "Of 0 missed answerable questions" in text
    assert (report / "report.png").stat().st_size > 1000
    # A rerun reuses the cached pack index instead of embedding again.
    indexes = sorted(p.name for p in (tmp_path / "indexes").iterdir())
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True)
    assert sorted(p.name for p in (tmp_path / "indexes").iterdir()) == indexes


def test_eval_with_questions_and_corpus_flags(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "p")
    env = {"QA_INDEX_DIR": str(tmp_path / "indexes"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "qa", "eval", "--questions", str(pack / "questions.jsonl"),
               "--corpus", str(pack / "corpus.jsonl"), "--report", str(tmp_path / "r"),
               "--limit", "1"]  # fmt: skip
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True)
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["n"] == 1


def test_bench_command_writes_json_and_prints_a_table(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "benchpack")
    out = tmp_path / "bench.json"
    env = {"QA_INDEX_DIR": str(tmp_path / "indexes"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "qa", "bench", "--pack", str(pack), "--sizes", "1000,5000",
               "--out", str(out)]  # fmt: skip
    run = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["ingest_pack"]["chunks"] > 0 and results["ingest_pack"]["ingest_vs_raw_torch_encode"] > 0
    assert results["ask_seed"]["latency_p50_s"] > 0 and results["ask_pack"]["questions"] == 3
    assert set(results["search"]) == {"1000", "5000"}
    assert "search p50 at 5,000 chunks" in run.stdout


def _bench(tmp_path: Path, *options: str) -> tuple[dict, str]:
    """`python -m qa bench OPTIONS --out ...` on a private index folder: (its JSON, its stdout)."""
    out = tmp_path / "bench-out.json"
    env = {"QA_INDEX_DIR": str(tmp_path / "indexes"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           "HOME": str(Path.home())}  # fmt: skip
    command = [sys.executable, "-m", "qa", "bench", *options, "--out", str(out)]
    run = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout


def test_bench_scale_builds_a_large_index_from_a_pack_and_measures_it(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "scalepack")
    results, stdout = _bench(tmp_path, "--pack", str(pack), "--scale", "40,200")
    for size in ("40", "200"):
        measured = results["sizes"][size]
        # The index holds the size asked for, plus the one article the benchmark adds.
        assert measured["chunks"] > int(size)
        assert measured["ask_p50_s"] > 0 and measured["add_one_article_s"] > 0 and measured["peak_rss_mb"] > 0
    assert "add_one_article_s" in stdout


def test_bench_recall_reports_ivf_recall_on_real_passages(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "recallpack")
    results, _ = _bench(tmp_path, "--recall", str(pack))
    assert results["passages"] >= 2 and results["questions"] == 3
    # One list holds everything in so small a set, so IVF finds exactly what exact search finds.
    assert results[f"recall_at_10_nprobe_{results['nprobe']}"] == 1.0
