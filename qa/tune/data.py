"""Training examples from question packs (the evaluation pack format: `corpus.jsonl` +
`questions.jsonl` per week), made by the same retrieval the assistant runs.

- Weeks are split by time: the last `holdout` weeks are never trained on; they choose the
  hyper-parameters (and give the card's held-out numbers).
- A question (of the training or held-out weeks) whose text matches a question of an excluded
  pack (the dev and val sets), exactly or nearly, is dropped: some quizzes recur from year to year.
- Each week's examples are written to the cache folder as soon as they are made, so a run that
  is stopped resumes where it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.answering.question import classify
from qa.answering.retrieve import Retriever, clean_query
from qa.config import Settings
from qa.errors import IngestError
from qa.eval.metrics import evidence_found
from qa.eval.run import Pack, Question, add_corpus, ensure_index, load_pack
from qa.models.embedder import Embedder
from qa.stores import open_store
from qa.text.normalize import words

log = logging.getLogger(__name__)

NEAR_DUPLICATE = 0.8  # word-set overlap (Jaccard) at which two questions are the same quiz item
POOL_PASSAGES = 16  # passages whose sentences are kept as examples (the assistant reads 8 or more)


def find_packs(folders: list[Path]) -> list[Path]:
    """Pack folders in or under each folder (a pack itself, or folders of packs), by name (= by week)."""
    packs: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if (folder / "questions.jsonl").is_file():
            packs.append(folder)
        else:
            packs.extend(sorted(p.parent for p in folder.rglob("questions.jsonl")))
    return sorted(set(packs), key=lambda p: p.name)


def pack_key(pack: Pack) -> str:
    """A pack's name and a digest of its content (articles, and the questions kept after
    dropping), so a cache of its examples is never read for a pack that changed."""
    digest = hashlib.sha256()
    add_corpus(digest, pack)
    digest.update(json.dumps([asdict(q) for q in pack.questions], sort_keys=True).encode())
    return f"{pack.name}-{digest.hexdigest()[:12]}"


def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def near_duplicates(questions: list[Question], excluded: list[Question]) -> set[str]:
    """Ids of `questions` whose words match an excluded question's: the same, or a Jaccard
    overlap of at least `NEAR_DUPLICATE`."""
    others = [_word_set(q.question) for q in excluded]
    dropped = set()
    for q in questions:
        own = _word_set(q.question)
        for other in others:
            if own == other or (own and len(own & other) / len(own | other) >= NEAR_DUPLICATE):
                dropped.add(q.id)
                break
    return dropped


@dataclass
class Split:
    train: list[Pack]
    holdout: list[Pack]
    dropped: list[str]  # ids of questions that match an excluded question


def split_packs(packs: list[Path], holdout: int, exclude: list[Path]) -> Split:
    """The last `holdout` weeks are held out; questions matching `exclude` packs are dropped."""
    loaded = [load_pack(p) for p in packs]
    excluded = [q for p in find_packs(exclude) for q in load_pack(p).questions]
    dropped: list[str] = []
    for pack in loaded:
        gone = near_duplicates(pack.questions, excluded)
        dropped += sorted(gone)
        pack.questions = [q for q in pack.questions if q.id not in gone]
    if not 1 <= holdout < len(loaded):
        raise IngestError(
            f"{len(loaded)} weeks cannot hold out {holdout}: give more packs or a smaller --holdout"
        )
    cut = len(loaded) - holdout
    return Split(loaded[:cut], loaded[cut:], dropped)


def stacked_groups(parts: list) -> np.ndarray:
    """The question numbers of examples made one part (week) at a time, renumbered as one list:
    each part's `groups` shifted by the questions of the parts before it."""
    offsets = np.cumsum([0] + [len(part.questions) for part in parts[:-1]])
    return np.concatenate([part.groups + offset for part, offset in zip(parts, offsets, strict=True)])


@dataclass
class EvidenceExamples:
    """Every sentence of the passages read for each answerable question, with its features and
    whether it holds the gold answer."""

    features: np.ndarray  # (sentences, FEATURES)
    labels: np.ndarray  # 1 = holds a gold answer
    groups: np.ndarray  # the question (index into `questions`) of each sentence
    passage_ranks: np.ndarray
    questions: list[str]  # question ids

    @classmethod
    def concat(cls, parts: list[EvidenceExamples]) -> EvidenceExamples:
        parts = [p for p in parts if p.questions]
        if not parts:
            raise IngestError("no answerable question of these packs has any passage to learn from")
        return cls(
            np.concatenate([p.features for p in parts]), np.concatenate([p.labels for p in parts]),
            stacked_groups(parts), np.concatenate([p.passage_ranks for p in parts]),
            [q for p in parts for q in p.questions],
        )  # fmt: skip

    def within(self, read: int) -> EvidenceExamples:
        """Only the sentences of the first `read` passages; their features stay those computed over
        all `POOL_PASSAGES`, as the assistant computes them with a tuned ranker (`Retriever` `pool`)."""
        keep = self.passage_ranks < read
        return EvidenceExamples(
            self.features[keep],
            self.labels[keep],
            self.groups[keep],
            self.passage_ranks[keep],
            self.questions,
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp, features=self.features, labels=self.labels, groups=self.groups,
            passage_ranks=self.passage_ranks, questions=np.array(self.questions, dtype=str),
        )  # fmt: skip
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> EvidenceExamples:
        with np.load(path) as data:
            return cls(
                data["features"], data["labels"], data["groups"], data["passage_ranks"],
                [str(q) for q in data["questions"]],
            )  # fmt: skip


def evidence_examples(pack: Pack, settings: Settings, embedder: Embedder) -> EvidenceExamples:
    """Retrieve for every answerable question of `pack` as the assistant does and label each
    sentence of the first `POOL_PASSAGES` passages."""
    index = open_store(settings, ensure_index(pack, settings, embedder)).load(embedder)
    retriever = Retriever(index, embedder)
    features, labels, groups, ranks, ids = [], [], [], [], []
    for q in (q for q in pack.questions if q.answerable):
        query = clean_query(q.question)
        vector = embedder.encode([query])[0]
        hits = retriever.passages(query, vector, max(settings.candidates, POOL_PASSAGES))
        pool = retriever.pool(query, vector, hits[:POOL_PASSAGES], classify(q.question))
        if not pool.keys:
            continue
        features.append(pool.features)
        labels.append(np.array([evidence_found([t], q.answers) for t in pool.texts], dtype=np.int8))
        groups.append(np.full(len(pool.keys), len(ids)))
        ranks.append(np.array(pool.passage_ranks))
        ids.append(q.id)
    if not ids:
        return EvidenceExamples(
            np.zeros((0, 0)), np.zeros(0, np.int8), np.zeros(0, int), np.zeros(0, int), []
        )
    return EvidenceExamples(
        np.concatenate(features), np.concatenate(labels), np.concatenate(groups), np.concatenate(ranks), ids
    )


def cached_evidence_examples(
    packs: list[Pack], settings: Settings, embedder: Embedder, cache: Path
) -> EvidenceExamples:
    """`evidence_examples` of each pack, read from `cache` when a run already made them."""
    cache.mkdir(parents=True, exist_ok=True)
    parts = []
    for pack in tqdm(packs, desc="evidence examples", unit="week"):
        path = cache / f"evidence-{pack_key(pack)}.npz"
        if not path.is_file():
            evidence_examples(pack, settings, embedder).save(path)
        parts.append(EvidenceExamples.load(path))
    return EvidenceExamples.concat(parts)
