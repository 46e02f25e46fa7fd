"""The parts learned from past news quizzes (`qa tune`), and where they are loaded from.

`QA_TUNED=off` (the default) uses the hand-set rules and the base models; `packaged` uses the
parts shipped in the package (`qa/tuned/`, tuned on 2022-2023 news quizzes; see
`qa/tuned/card.md`); a folder written by `qa tune` uses that folder's. A part a folder does not
have stays hand-set (or the base model). The embedder is loaded by `Embedder.from_settings`
(`Settings.embedder_folder`), since ingest needs it without the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.answering.evidence_rank import HAND_RANKER, SENTENCE_PASSAGES, EvidenceRanker, LinearRanker
from qa.answering.rank import Weights
from qa.config import PACKAGED_TUNED as PACKAGED
from qa.config import TUNED_EMBEDDER as EMBEDDER
from qa.errors import ModelError

EVIDENCE_RANKER = "evidence_ranker.json"
CANDIDATE_RANKER = "candidate_ranker.json"
READER_ADAPTER = "reader_lora.gguf"  # a GGUF LoRA for the model it was trained on
READER_BASE = "reader.json"  # which model file that was (name and size)


@dataclass(frozen=True)
class TunedParts:
    """What the pipeline reads of a tuned folder."""

    evidence_ranker: EvidenceRanker = HAND_RANKER
    read: int = SENTENCE_PASSAGES  # passages whose sentences the evidence ranker scores
    pool: int | None = None  # passages its features were computed over in training (None: `read`)
    candidate_weights: Weights = Weights()
    reader: Path | None = None  # the reader adapter
    reader_base: dict | None = None  # the model file it adapts: {"name", "bytes"}
    # The likelihood threshold calibrated for the adapted model (None: the setting's default).
    reader_min_answer_logprob: float | None = None
    embedder: Path | None = None  # a tuned sentence-transformers folder (`Settings.embedder_folder` loads it)
    source: str = "off"

    def reader_for(self, model: Path) -> Path | None:
        """The reader adapter if it was trained for `model` (same file name and size), else None:
        an adapter only means something to the weights it was trained on."""
        if self.reader is None or self.reader_base is None or not model.is_file():
            return None
        same = (
            self.reader_base.get("name") == model.name
            and self.reader_base.get("bytes") == model.stat().st_size
        )
        return self.reader if same else None


def load_tuned(tuned: str) -> TunedParts:
    """`packaged`, `off` or a folder (`QA_TUNED`); a folder that is missing or unreadable is a
    `ModelError` naming it, never a silent fall-back to other weights."""
    if tuned == "off":
        return TunedParts()
    folder = PACKAGED if tuned == "packaged" else Path(tuned).expanduser()
    if not folder.is_dir():
        raise ModelError(
            f"QA_TUNED={tuned}: no such folder (give a folder `qa tune` wrote, `packaged` or `off`)."
        )
    parts: dict = {"source": tuned if tuned == "packaged" else str(folder)}
    path = folder / EVIDENCE_RANKER
    if path.is_file():
        parts["evidence_ranker"] = LinearRanker.load(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            parts["read"] = int(data.get("read", SENTENCE_PASSAGES))
            parts["pool"] = int(data["pool"]) if data.get("pool") else None
        except (ValueError, TypeError) as exc:
            raise ModelError(f"Cannot read {path}: {exc}") from exc
    path = folder / CANDIDATE_RANKER
    if path.is_file():
        parts["candidate_weights"] = load_weights(path)
    path = folder / READER_ADAPTER
    if path.is_file():
        parts["reader"] = path
        try:
            info = json.loads((folder / READER_BASE).read_text(encoding="utf-8"))
            parts["reader_base"] = dict(info["base"])
            threshold = info.get("min_answer_logprob")
            if threshold is not None:
                threshold = float(threshold)
                if not -1e12 <= threshold <= 0.0:  # also refuses nan
                    raise ValueError(f"min_answer_logprob {threshold} is not a log-probability")
            parts["reader_min_answer_logprob"] = threshold
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"Cannot read {folder / READER_BASE} (the reader adapter's model): {exc}"
            ) from exc
    if (folder / EMBEDDER).is_dir():
        parts["embedder"] = folder / EMBEDDER
    if len(parts) == 1:
        raise ModelError(f"QA_TUNED={tuned}: the folder has no tuned parts (run `qa tune --out {tuned}`).")
    return TunedParts(**parts)


def load_weights(path: Path) -> Weights:
    """Candidate weights `qa tune` wrote; weights of other features are refused, not misread."""
    try:
        weights = json.loads(path.read_text(encoding="utf-8"))["weights"]
        if set(weights) != set(Weights.names()):
            raise ValueError(
                f"its features are {', '.join(sorted(weights))}, not {', '.join(Weights.names())}"
            )
        return Weights(**{name: float(value) for name, value in weights.items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"Cannot read the candidate ranker {path} ({exc}); retrain it (`qa tune`) or set QA_TUNED=off."
        ) from exc
