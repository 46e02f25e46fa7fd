"""Run a question set through the assistant and write metrics, per-question results and a report.

A pack is a folder with `corpus.jsonl` and `questions.jsonl`. Each pack gets its own index,
named after a hash of its corpus and the embedding settings, so a rerun does not re-embed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from qa.answering.assistant import Assistant
from qa.config import Settings
from qa.errors import IngestError
from qa.eval.metrics import (
    Verdict,
    aggregate,
    answer_words,
    citation_scores,
    evidence_found,
    is_correct,
    token_f1,
)
from qa.eval.report import write_report
from qa.ingest.readers import SUPPORTED_SUFFIXES, read_paths
from qa.models.embedder import Embedder
from qa.stores import add_articles, open_store

log = logging.getLogger(__name__)


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]
    answerable: bool = True
    evidence: list[str] | None = None


@dataclass
class Pack:
    name: str
    corpus: list[Path]
    questions: list[Question]


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(
                    id=str(row.get("id", number)),
                    question=row["question"],
                    answers=[str(a) for a in row["answers"]],
                    answerable=bool(row.get("answerable", True)),
                    evidence=row.get("evidence"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise IngestError(f"{path}:{number}: not a question line ({exc})") from exc
    return questions


def load_pack(folder: Path) -> Pack:
    folder = Path(folder)
    corpus, questions = folder / "corpus.jsonl", folder / "questions.jsonl"
    if not corpus.is_file() or not questions.is_file():
        raise IngestError(f"{folder} is not a pack: it needs corpus.jsonl and questions.jsonl")
    return Pack(folder.resolve().name, [corpus], load_questions(questions))


def corpus_index_name(pack: Pack, settings: Settings, embedder: Embedder) -> str:
    """Index name keyed by the corpus bytes and everything that shapes the vectors."""
    digest = hashlib.sha256()
    # "titled-sum": indexes whose titled sentence vectors are sentence + title vectors.
    digest.update(
        f"{embedder.name}|{embedder.runtime}|{settings.chunk_chars}|{settings.chunk_overlap}|titled-sum".encode()
    )
    add_corpus(digest, pack)
    return f"eval-{pack.name}-{digest.hexdigest()[:12]}"


def add_corpus(digest: hashlib._Hash, pack: Pack) -> None:
    """Feed `digest` the name and bytes of every article file of `pack`, in a stable order."""
    for root in pack.corpus:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            if file.suffix.lower() in SUPPORTED_SUFFIXES:
                digest.update(file.name.encode())
                digest.update(file.read_bytes())


def ensure_index(pack: Pack, settings: Settings, embedder: Embedder) -> str:
    name = corpus_index_name(pack, settings, embedder)
    store = open_store(settings, name)
    if not store.exists():
        report = add_articles(store, read_paths(pack.corpus), embedder, settings, rebuild=True)
        log.info("pack %s: %s", pack.name, report.summary())
    return name


def run_eval(
    packs: list[Pack], out_dir: Path, settings: Settings | None = None, limit: int | None = None
) -> dict:
    """Answer every question of every pack; write metrics.json, results.jsonl and report.md."""
    settings = settings or Settings.from_env()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    assistant: Assistant | None = None
    rows: list[dict] = []
    by_pack: dict[str, list[Verdict]] = {}
    total = sum(len(p.questions[:limit]) for p in packs)
    correct = answered = 0
    with tqdm(total=total, desc="eval", unit="q") as bar:
        for pack in packs:
            embedder = assistant.embedder if assistant else Embedder.from_settings(settings)
            index_name = ensure_index(pack, settings, embedder)
            if assistant is None:
                assistant = Assistant(settings=settings.replace(index=index_name))
            else:
                assistant.use_index(index_name)
            for q in pack.questions[:limit]:
                row, verdict = _evaluate(assistant, q)
                row["pack"] = pack.name
                rows.append(row)
                by_pack.setdefault(pack.name, []).append(verdict)
                if q.answerable:
                    answered += 1
                    correct += verdict.correct
                bar.update(1)
                bar.set_postfix(acc=f"{correct / max(1, answered):.2f}", pack=pack.name)
    metrics = aggregate([v for verdicts in by_pack.values() for v in verdicts])
    metrics["packs"] = {name: aggregate(verdicts) for name, verdicts in by_pack.items()}
    metrics["settings_hash"] = assistant.settings.fingerprint() if assistant else None
    metrics["model"] = assistant.generator.name if assistant else None
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_report(metrics, rows, out_dir)
    return metrics


def _evaluate(assistant: Assistant, q: Question) -> tuple[dict, Verdict]:
    answer = assistant.ask(q.question)
    retrieval_texts = [assistant.index.passage(chunk_id) for chunk_id in answer.retrieved[:5]]
    cited = [c.sentence for c in answer.citations]
    phrase = " ".join(answer_words(answer.text)) if not answer.abstained else ""
    correct = is_correct(answer.text, q.answers, answer.abstained)
    recall, precision = citation_scores(q.question, phrase, cited) if not answer.abstained else (0.0, 0.0)
    verdict = Verdict(
        answerable=q.answerable,
        abstained=answer.abstained,
        correct=correct,
        f1=token_f1(answer.text, q.answers, answer.abstained),
        evidence_at_5=evidence_found(retrieval_texts, q.answers),
        citation_supports=correct and evidence_found(cited, q.answers),
        citation_recall=recall,
        citation_precision=precision,
        latency_s=answer.timings["total_s"],
        words=len(answer_words(answer.text)),
        gold_in_evidence=evidence_found(answer.searched, q.answers),
        choice_ceiling=correct or any(is_correct(text, q.answers) for text in answer.considered),
    )
    row = {
        "id": q.id,
        "question": q.question,
        "gold": q.answers,
        "answerable": q.answerable,
        "answer": answer.text,
        "abstained": answer.abstained,
        "answer_type": answer.answer_type,
        "kind": answer.kind,
        "reason": answer.reason,
        "raw_output": answer.raw_output,
        "support": answer.support,
        "answer_score": answer.answer_score,
        "answer_logprob": answer.answer_logprob,
        "answer_logprob_waived": answer.answer_logprob_waived,
        "citations": [asdict(c) for c in answer.citations],
        "retrieved": answer.retrieved,
        "considered": answer.considered,
        "verdict": asdict(verdict),
        "latency_s": answer.timings["total_s"],
    }
    return row, verdict
