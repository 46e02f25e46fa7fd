"""`qa tune` on invented weekly packs: examples made by the real retrieval, a ranker learned,
saved, loaded by the assistant, and training questions that match an evaluation set dropped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.answering.evidence_rank import FEATURES, HAND_RANKER, LinearRanker
from qa.answering.rank import Weights
from qa.answering.tuned import CANDIDATE_RANKER, EVIDENCE_RANKER, load_tuned
from qa.config import PROJECT_ROOT, Settings
from qa.errors import IngestError, ModelError
from qa.eval.run import Question, ensure_index, load_pack
from qa.models.embedder import Embedder
from qa.tune.candidates import FEATURES as CANDIDATE_FEATURES
from qa.tune.candidates import CandidateExamples, save_weights, train_candidate_ranker
from qa.tune.data import POOL_PASSAGES, EvidenceExamples, find_packs, near_duplicates, pack_key, split_packs
from qa.tune.evidence import answer_in_top
from qa.tune.run import run_tune
from tests.conftest import invented_week

RANKERS = ("evidence", "candidates")


def test_near_duplicate_questions_are_dropped() -> None:
    asked = [Question("1", "Which city hosted the 2026 Winter Games?", ["x"]),
             Question("2", "Who led the bridge project in Tallport?", ["y"])]  # fmt: skip
    evaluation = [Question("e", "which city hosted the 2026 winter games ?", ["x"]),
                  Question("f", "Who led the library project in Brenvik?", ["z"])]  # fmt: skip
    assert near_duplicates(asked, evaluation) == {"1"}


def test_the_last_weeks_are_held_out_and_excluded_questions_dropped(weeks: Path, tmp_path: Path) -> None:
    excluded = invented_week(tmp_path / "dev" / "20270101", 0)  # the first week's questions, again
    split = split_packs(find_packs([weeks]), holdout=1, exclude=[tmp_path / "dev"])
    assert [p.name for p in split.train] == ["20260100", "20260101", "20260102"]
    assert [p.name for p in split.holdout] == ["20260103"]
    assert len(split.dropped) == 4 and split.train[0].questions == []
    assert excluded.is_dir()
    with pytest.raises(IngestError, match="cannot hold out"):
        split_packs(find_packs([weeks]), holdout=4, exclude=[])


@pytest.fixture(scope="module")
def tuned(
    weeks: Path, tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> tuple[Path, Settings, dict]:
    """One tuning run of both rankers on the invented weeks (the last one held out); the
    reader's training has its own tests (`test_reader_tune.py`). The evidence is one sentence:
    the hand rule often takes "The new harbour in Tallport opened…" over the sentence that says
    who led it, which a learned ranker can mend."""
    root = tmp_path_factory.mktemp("tuned")
    local = settings.replace(index_dir=root / "indexes", evidence_sentences=1)
    card = run_tune([weeks], root / "out", holdout=1, settings=local, cache=root / "cache", parts=RANKERS)
    return root / "out", local, card


def test_tune_learns_the_rankers_and_writes_a_card(tuned: tuple[Path, Settings, dict]) -> None:
    out, _, card = tuned
    evidence = card["parts"]["evidence"]
    assert evidence["train_questions"] == 12 and evidence["holdout_questions"] == 4
    # Every question's answer is in the passages read; the learned ranker puts it first more often.
    assert evidence["holdout_answer_in_pool"] == 1.0
    held = evidence["holdout_answer_in_evidence"]
    assert held["learned"] > held["hand"] and evidence["kept"]
    # The candidates are found with the learned ranker and judged by the model; their weights are
    # written only when they choose better than the hand-set ones on the held-out week.
    candidates = card["parts"]["candidates"]
    assert candidates["evidence"] == "learned" and candidates["train_questions"] > 0
    assert set(candidates["weights"]) == set(Weights.names())
    chosen = candidates["holdout_best_is_right"]
    assert candidates["kept"] == (chosen["learned"] > chosen["hand"]) == (out / CANDIDATE_RANKER).is_file()
    text = (out / "card.md").read_text()
    assert text.startswith("# Tuned parts") and "## Candidate ranker" in text
    assert ("Not kept" in text.split("## Candidate ranker")[1]) != candidates["kept"]
    assert json.loads((out / "card.json").read_text())["train_weeks"][0] == "20260100"
    parts = load_tuned(str(out))
    assert isinstance(parts.evidence_ranker, LinearRanker) and parts.read == evidence["read"]
    assert parts.candidate_weights == (Weights(**candidates["weights"]) if candidates["kept"] else Weights())


def test_a_pack_s_cache_key_follows_its_content(weeks: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(weeks / "20260100", tmp_path / "20260100")
    assert pack_key(load_pack(copy)) == pack_key(load_pack(weeks / "20260100"))
    questions = copy / "questions.jsonl"
    questions.write_text(questions.read_text().replace("Who led", "Who started"))
    assert pack_key(load_pack(copy)) != pack_key(load_pack(weeks / "20260100"))


def test_a_second_run_reads_its_cached_examples_and_writes_the_same_parts(
    weeks: Path, tuned: tuple[Path, Settings, dict]
) -> None:
    out, local, card = tuned
    again = out.parent / "again"
    shutil.copytree(out, again)
    first = (out / EVIDENCE_RANKER).read_text()
    cache = out.parent / "cache"
    made = {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")}
    assert len(made) == 8  # 4 weeks, of sentences and of candidates
    # An earlier run's weights in the folder are replaced, or removed when this run's are not kept.
    save_weights(Weights(logprob=9.0), again / CANDIDATE_RANKER)
    second = run_tune([weeks], again, holdout=1, settings=local, cache=cache, parts=RANKERS)
    assert (again / EVIDENCE_RANKER).read_text() == first
    assert second["parts"]["candidates"]["weights"] == card["parts"]["candidates"]["weights"]
    assert (again / CANDIDATE_RANKER).is_file() == second["parts"]["candidates"]["kept"]
    assert load_tuned(str(again)).candidate_weights != Weights(logprob=9.0)
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")} == made


def test_the_assistant_answers_with_a_tuned_folder(
    weeks: Path, tuned: tuple[Path, Settings, dict], embedder: Embedder
) -> None:
    from qa.answering.assistant import Assistant

    out, local, _ = tuned
    week = ensure_index(load_pack(weeks / "20260103"), local, embedder)  # built by the run
    assistant = Assistant(settings=local.replace(index=week, tuned=str(out)))
    assert assistant.retriever.ranker.name.startswith("learned")
    # Its features are computed over the passages it was trained on; the evidence comes from those it reads.
    assert assistant.retriever.pool_passages == POOL_PASSAGES
    retrieval = assistant.retrieve("Who led the harbour project in Tallport?")
    assert all(e.chunk_rank < assistant.retriever.read for e in retrieval.sentences)
    evidence = retrieval.evidence
    assert any("led the harbour project" in e.text for e in evidence[:2])
    answer = assistant.ask("Who led the harbour project in Tallport?")
    assert answer.citations and all(c.sentence in weeks.joinpath("20260103", "corpus.jsonl").read_text()
                                    for c in answer.citations)  # fmt: skip


def test_tune_command_writes_the_parts(weeks: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    env = {"QA_INDEX_DIR": str(tmp_path / "indexes"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           "QA_EVIDENCE_SENTENCES": "1"}  # fmt: skip
    command = [sys.executable, "-m", "qa", "tune", "--packs", str(weeks), "--out", str(out), "--holdout", "1",
               "--parts", "evidence", "--cache", str(tmp_path / "cache")]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True)
    assert "Evidence ranker" in done.stdout and f"QA_TUNED={out}" in done.stdout
    assert (out / EVIDENCE_RANKER).is_file() and not (out / CANDIDATE_RANKER).exists()
    # With eight evidence sentences the hand rule already finds every held-out answer: the ranker
    # is not kept, the earlier run's is removed, and the folder is not offered.
    command[command.index(str(out))] = str(shutil.copytree(out, tmp_path / "cli-8"))
    done = subprocess.run(command, cwd=PROJECT_ROOT, env={**env, "QA_EVIDENCE_SENTENCES": "8"}, check=True,
                          capture_output=True, text=True)  # fmt: skip
    assert "Not kept" in done.stdout and "no part did better" in done.stdout
    assert "QA_TUNED=" not in done.stdout
    assert not (tmp_path / "cli-8" / EVIDENCE_RANKER).exists()


def test_tuned_parts_off_packaged_or_a_bad_folder(tmp_path: Path) -> None:
    assert load_tuned("off").evidence_ranker is HAND_RANKER
    assert load_tuned("packaged").source == "packaged"
    with pytest.raises(ModelError, match="no such folder"):
        load_tuned(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no tuned parts"):
        load_tuned(str(tmp_path / "empty"))
    other = tmp_path / "other"
    other.mkdir()
    ranker = LinearRanker((1.0,), (0.0,), (1.0,), features=("similarity",))
    ranker.save(other / EVIDENCE_RANKER)
    with pytest.raises(ModelError, match="other features"):
        load_tuned(str(other))
    (other / EVIDENCE_RANKER).write_text("{not json")
    with pytest.raises(ModelError, match="Cannot read"):
        load_tuned(str(other))
    (other / EVIDENCE_RANKER).unlink()
    (other / CANDIDATE_RANKER).write_text(json.dumps({"weights": {"logprob": 1.0, "shiny": 2.0}}))
    with pytest.raises(ModelError, match="Cannot read the candidate ranker"):
        load_tuned(str(other))


def test_answer_in_top_counts_questions_whose_best_sentences_hold_the_answer() -> None:
    features = np.zeros((4, len(FEATURES)))
    features[:, 0] = [0.9, 0.1, 0.2, 0.8]  # similarity: the hand rule ranks by it here
    examples = EvidenceExamples(
        features, np.array([0, 1, 0, 1], np.int8), np.array([0, 0, 1, 1]), np.zeros(4, int), ["a", "b"]
    )
    assert answer_in_top(examples, HAND_RANKER, 1) == 0.5  # b's best sentence holds it, a's does not
    assert answer_in_top(examples, HAND_RANKER, 2) == 1.0


def test_weights_that_do_no_better_than_the_hand_set_ones_are_not_kept() -> None:
    # Three candidates per question; the hand weights already pick the right one (it is stated).
    stated = CANDIDATE_FEATURES.index("stated")
    features = np.zeros((12, len(CANDIDATE_FEATURES)))
    features[0::3, stated] = 1.0
    labels = np.tile(np.array([1, 0, 0], dtype=np.int8), 4)
    examples = CandidateExamples(features, labels, np.repeat(np.arange(4), 3), ["a", "b", "c", "d"])
    _, metrics = train_candidate_ranker(examples, examples)
    assert metrics["holdout_best_is_right"] == {"hand": 1.0, "learned": 1.0} and not metrics["kept"]
    # Now a wrong candidate is the stated one and the right one stands in the first sentence, a
    # feature the hand weights ignore: learned weights choose better and are kept.
    features[0::3, stated], features[1::3, stated] = 0.0, 1.0
    features[0::3, CANDIDATE_FEATURES.index("evidence_rank")] = 1.0
    weights, metrics = train_candidate_ranker(examples, examples)
    assert metrics["holdout_best_is_right"] == {"hand": 0.0, "learned": 1.0} and metrics["kept"]
    assert weights.evidence_rank > Weights().evidence_rank
