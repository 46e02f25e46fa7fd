"""One tuning run: split the packs by week, make the examples, train each part asked for, and
write the parts with a model card (data, counts, settings, metrics, commit) into `--out`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from qa.answering.evidence_rank import FEATURES
from qa.answering.rank import Weights
from qa.answering.tuned import (
    CANDIDATE_RANKER,
    EMBEDDER,
    EVIDENCE_RANKER,
    READER_ADAPTER,
    READER_BASE,
    load_tuned,
)
from qa.config import PROJECT_ROOT, Settings
from qa.models.embedder import Embedder
from qa.tune import PARTS, READS
from qa.tune.candidates import cached_candidate_examples, save_weights, train_candidate_ranker
from qa.tune.data import POOL_PASSAGES, cached_evidence_examples, find_packs, split_packs
from qa.tune.embedder import EXAMPLE_SHAPE, EmbedderRecipe, cached_embedder_examples, train_and_write_embedder
from qa.tune.evidence import train_evidence_ranker
from qa.tune.reader import ReaderRecipe, cached_lexical_examples, held_out_examples, train_and_write_reader
from qa.tune.threshold import calibrate

log = logging.getLogger(__name__)


def run_tune(
    packs: list[Path], out: Path, holdout: int = 6, exclude: list[Path] | None = None,
    parts: tuple[str, ...] = PARTS, seed: int = 0, reads: tuple[int, ...] = READS,
    settings: Settings | None = None, cache: Path | None = None, reader_recipe: ReaderRecipe | None = None,
    embedder_recipe: EmbedderRecipe | None = None,
) -> dict:  # fmt: skip
    """Train `parts` on `packs` (the last `holdout` weeks held out); returns the card's data.
    `cache`: where the examples are kept between runs (default: the user's cache folder).

    The parts are trained in pipeline order, each on what the earlier ones give: the rankers see
    what the tuned embedder retrieves, the reader reads the tuned evidence, and the candidates are
    judged by the tuned reader."""
    # The embedder is the run's own, not `QA_TUNED`'s: `QA_EMBEDDER` (also what an embedder tune
    # starts from), else the one this run writes into `out`, else the packaged model.
    settings = (settings or Settings.from_env()).replace(tuned="off")
    cache_root = Path(cache) if cache else settings.cache_dir / "tune"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    split = split_packs(find_packs(packs), holdout, exclude or [])
    tuned_embedder: dict | None = None
    if "embedder" in parts:
        started = time.perf_counter()
        recipe = embedder_recipe or EmbedderRecipe(seed=seed)
        if settings.embedder and not recipe.base:
            recipe = dataclasses.replace(recipe, base=settings.embedder)
        folder = _cache(cache_root, settings, recipe.base or "packaged", "-", "embedder", *EXAMPLE_SHAPE)
        train = cached_embedder_examples(split.train, folder)
        held = cached_embedder_examples(split.holdout, folder)
        examples_s = time.perf_counter() - started
        tuned_embedder = train_and_write_embedder(train, held, out, recipe)
        tuned_embedder["seconds"] = {
            "examples": round(examples_s), "training": round(time.perf_counter() - started - examples_s)
        }  # fmt: skip
    if (out / EMBEDDER).is_dir():
        # The later parts learn from what the folder's embedder retrieves, as they will run.
        settings = settings.replace(embedder=str(out / EMBEDDER))
    embedder = Embedder.from_settings(settings)
    card: dict = {
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "embedder": f"{embedder.name} ({embedder.runtime})",
        "train_weeks": [p.name for p in split.train],
        "holdout_weeks": [p.name for p in split.holdout],
        "questions": {
            "train": sum(len(p.questions) for p in split.train),
            "holdout": sum(len(p.questions) for p in split.holdout),
            "dropped_as_excluded": len(split.dropped),
        },
        "excluded_packs": [str(p) for p in exclude or []],
        "seed": seed,
        "parts": _kept_parts(out, parts),
    }
    if tuned_embedder is not None:
        card["parts"]["embedder"] = tuned_embedder
    if "evidence" in parts:
        started = time.perf_counter()
        folder = _cache(
            cache_root, settings, embedder.name, embedder.runtime, "evidence", *FEATURES, POOL_PASSAGES
        )
        train = cached_evidence_examples(split.train, settings, embedder, folder)
        held = cached_evidence_examples(split.holdout, settings, embedder, folder)
        examples_s = time.perf_counter() - started
        ranker, metrics = train_evidence_ranker(train, held, reads, settings.evidence_sentences, seed)
        metrics["seconds"] = {
            "examples": round(examples_s),
            "training": round(time.perf_counter() - started - examples_s),
        }
        if metrics["kept"]:
            ranker.save(
                out / EVIDENCE_RANKER,
                read=metrics["read"],
                pool=POOL_PASSAGES,
                trained_on=card["train_weeks"],
            )
        else:  # an earlier run's ranker was learned from other weeks or another embedder
            (out / EVIDENCE_RANKER).unlink(missing_ok=True)
        card["parts"]["evidence"] = metrics
    if "reader" in parts:
        started = time.perf_counter()
        tuned = str(out.resolve()) if (out / EVIDENCE_RANKER).is_file() else "off"
        template = (settings.prompts_dir / "answer.jinja").read_text(encoding="utf-8")
        folder = _cache(cache_root, settings, embedder.name, embedder.runtime, "reader", template, seed)
        train = cached_lexical_examples(split.train, settings, seed, folder)
        held = held_out_examples(split.holdout, settings, tuned)
        examples_s = time.perf_counter() - started
        metrics = train_and_write_reader(train, held, settings, out, reader_recipe or ReaderRecipe(seed=seed))
        metrics["seconds"] = {
            "examples": round(examples_s), "training": round(time.perf_counter() - started - examples_s)
        }  # fmt: skip
        card["parts"]["reader"] = metrics
    if "candidates" in parts:
        # The candidates are those the evidence ranker of this folder (if any) finds, judged by
        # its reader (if any).
        started = time.perf_counter()
        ranker_file, reader_file = out / EVIDENCE_RANKER, out / READER_ADAPTER
        tuned = str(out.resolve()) if ranker_file.is_file() or reader_file.is_file() else "off"
        ranker_text = ranker_file.read_text(encoding="utf-8") if ranker_file.is_file() else "hand"
        reader_hash = (
            hashlib.sha256(reader_file.read_bytes()).hexdigest() if reader_file.is_file() else "base"
        )
        folder = _cache(
            cache_root, settings, embedder.name, embedder.runtime, "candidates", ranker_text, reader_hash,
            *Weights.names(),
        )  # fmt: skip
        train = cached_candidate_examples(split.train, settings, tuned, folder)
        held = cached_candidate_examples(split.holdout, settings, tuned, folder)
        examples_s = time.perf_counter() - started
        weights, metrics = train_candidate_ranker(train, held)
        metrics["evidence"] = "learned" if ranker_file.is_file() else "hand"
        metrics["seconds"] = {
            "examples": round(examples_s), "training": round(time.perf_counter() - started - examples_s)
        }  # fmt: skip
        if metrics["kept"]:
            save_weights(weights, out / CANDIDATE_RANKER, trained_on=card["train_weeks"])
        else:
            (out / CANDIDATE_RANKER).unlink(missing_ok=True)
        card["parts"]["candidates"] = metrics
    if (out / READER_ADAPTER).is_file():
        # Last: the reader's threshold is calibrated with every part it will run with.
        started = time.perf_counter()
        calibration = calibrate(split.holdout, settings, load_tuned(str(out.resolve())))
        calibration["seconds"] = round(time.perf_counter() - started)
        info = json.loads((out / READER_BASE).read_text(encoding="utf-8"))
        info.update(min_answer_logprob=calibration["min_answer_logprob"], calibration=calibration)
        (out / READER_BASE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        card["reader_threshold"] = calibration
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    (out / "card.md").write_text(card_markdown(card), encoding="utf-8")
    return card


def card_markdown(card: dict) -> str:
    """The card for people: what was trained on, and what each part measured."""
    q = card["questions"]
    lines = [
        "# Tuned parts",
        "",
        f"Made {card['made']} from commit {card['commit']} by `qa tune`, embedder {card['embedder']}.",
        "",
        f"- Trained on {len(card['train_weeks'])} weeks ({card['train_weeks'][0]} to "
        f"{card['train_weeks'][-1]}), {q['train']} questions; held out {len(card['holdout_weeks'])} "
        "later weeks "
        f"({', '.join(card['holdout_weeks'])}), {q['holdout']} questions.",
        f"- Dropped {q['dropped_as_excluded']} training questions that match a question of the excluded "
        f"packs ({', '.join(card['excluded_packs']) or 'none given'}).",
        f"- Seed {card['seed']}.",
    ]
    if "embedder" in card["parts"]:
        m = card["parts"]["embedder"]
        r = m["recipe"]
        kept = "kept (`embedder/`)" if m["kept"] else "not kept: it never beat the base model"
        curve = ", ".join(f"step {p['step']}: {p['mrr']:.3f}" for p in m["curve"])
        lines += [
            "", "## Embedder", "",
            f"{r['base']} fine-tuned ({r['epochs']} epochs, batch {r['batch']}, learning rate "
            f"{r['learning_rate']:g}, multiple-negatives ranking loss with a BM25 hard negative) on "
            f"{m['train_examples']} training questions, each with the sentences of its week that hold "
            f"its answer; chosen on {m['holdout_examples']} held-out questions: step {m['best_step']}, "
            f"{kept}.",
            "", "| held out: the answer sentence among its question's BM25 neighbours | base | tuned |",
            "|---|---|---|",
            f"| mean reciprocal rank | {m['holdout_mrr']['base']:.3f} | {m['holdout_mrr']['learned']:.3f} |",
            f"| ranked first | {m['holdout_first']['base']:.3f} | {m['holdout_first']['learned']:.3f} |",
            "", f"Held-out curve: {curve}. Time: {m['seconds']['examples']} s for the examples, "
            f"{m['seconds']['training']} s to train.",
        ]  # fmt: skip
    if "evidence" in card["parts"]:
        m = card["parts"]["evidence"]
        lines += _part_section(
            "Evidence ranker (`evidence_ranker.json`)",
            f"Logistic model over the sentences of the first {m['read']} passages (the hand rule reads 8); "
            f"{m['train_sentences']:,} sentences of {m['train_questions']} answerable training questions.",
            f"answer among the {m['n_evidence']} evidence sentences | hand rule",
            m["holdout_answer_in_evidence"], m["train_answer_in_evidence"], m,
            f"Answer anywhere in the passages read (the ceiling): {m['holdout_answer_in_pool']:.3f} "
            "held out. "
            f"Tried (held-out score): {m['tried']}.",
            "weight (standardised)",
        )  # fmt: skip
    if "reader" in card["parts"]:
        m = card["parts"]["reader"]
        r, right = m["recipe"], m["holdout_answer_right"]
        kept = "kept (`reader_lora.gguf`)" if m["kept"] else "not kept: it never beat the model alone"
        curve = ", ".join(f"step {p['step']}: {p['held_out_accuracy']:.3f}" for p in m["curve"])
        lines += [
            "", "## Reader adapter", "",
            f"LoRA (rank {r['rank']}, alpha {r['alpha']:g}, learning rate {r['learning_rate']:g}, "
            f"{r['epochs']} epoch(s), {m['steps']} steps of {r['accumulate']}) on {m['train_examples']} "
            "training prompts (BM25 evidence holding the answer); chosen on the assistant's own prompts "
            f"for {m['holdout_examples']} held-out questions whose evidence holds the answer: step "
            f"{m['best_step']}, {kept}.",
            "", "| greedy answer right, held out | model alone | with the adapter |", "|---|---|---|",
            f"| {m['holdout_examples']} prompts | {right['base']:.3f} | {right['learned']:.3f} |",
            "", f"Held-out curve: {curve}. Time: {m['seconds']['examples']} s for the examples, "
            f"{m['seconds']['training']} s to train.",
        ]  # fmt: skip
    if "candidates" in card["parts"]:
        m = card["parts"]["candidates"]
        lines += _part_section(
            "Candidate ranker (`candidate_ranker.json`)",
            f"Conditional logit over the short-listed candidates of {m['train_questions']} answerable "
            f"training questions (evidence by the {m['evidence']} ranker), each judged by the model.",
            "best candidate is right | hand weights", m["holdout_best_is_right"], m["train_best_is_right"], m,
            f"Some candidate right (the ceiling): {m['holdout_some_right']:.3f} held out. "
            f"Penalties tried (held-out score): {m['penalties']}.",
            "weight",
        )  # fmt: skip
    if "reader_threshold" in card:
        lines += _threshold_section(card["reader_threshold"])
    return "\n".join(lines) + "\n"


def _threshold_section(c: dict) -> list[str]:
    """The reader's likelihood threshold, and what it and the model's own give on held-out weeks."""
    chosen = c["min_answer_logprob"]
    rows = [("the model alone", c["model_alone"]),
            ("with the reader, at the model's threshold", c["reader_at_model_threshold"])]  # fmt: skip
    if chosen is not None:
        rows.append(("with the reader, at its own threshold (used)", c["reader_at_own_threshold"]))
    return [
        "", "## Reader likelihood threshold", "",
        (f"`min_answer_logprob` {chosen:g} in `reader.json`: the least strict at which the model with "
         "the reader abstains on the held-out unanswerable questions as often as the model alone does "
         "at its threshold, with this folder's other parts."
         if chosen is not None else "None: the held-out weeks have no unanswerable question; the "
         "model's threshold applies."),
        "", "| held-out questions | threshold | right | answer rate | abstention |", "|---|---|---|---|---|",
        *(f"| {name} | {r['threshold']:g} | {r['right']}/{r['answerable']} | {_num(r['answer_rate'])} "
          f"| {_num(r['abstention'])} |" for name, r in rows),
        "", f"Time: {c['seconds']} s (every held-out question answered with and without the reader).",
    ]  # fmt: skip


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _part_section(
    title: str, intro: str, measure: str, held: dict, trained: dict, m: dict, tried: str, weight: str
) -> list[str]:
    """One part's card section: what it is, hand vs learned held out and in training, the
    settings tried, the time, and its weights."""
    not_kept = " Not kept: the hand rule did at least as well on the held-out weeks."
    return [
        "", f"## {title}", "", intro + ("" if m.get("kept", True) else not_kept), "",
        f"| {measure} | learned |", "|---|---|---|",
        f"| held-out weeks ({m['holdout_questions']} questions) | {held['hand']:.3f} "
        f"| {held['learned']:.3f} |",
        f"| training weeks | {trained['hand']:.3f} | {trained['learned']:.3f} |",
        "",
        f"{tried} Time: {m['seconds']['examples']} s for the examples, "
        f"{m['seconds']['training']} s to train.",
        "", f"| feature | {weight} |", "|---|---|",
        *(f"| {name} | {w:+.3f} |" for name, w in m["weights"].items()),
    ]  # fmt: skip


def _kept_parts(out: Path, training: tuple[str, ...]) -> dict:
    """The card entries of parts an earlier run left in `out` and this one does not retrain."""
    files = {"embedder": EMBEDDER, "evidence": EVIDENCE_RANKER, "candidates": CANDIDATE_RANKER,
             "reader": READER_ADAPTER}  # fmt: skip
    try:
        earlier = json.loads((out / "card.json").read_text(encoding="utf-8"))["parts"]
    except (OSError, ValueError, KeyError):
        return {}
    return {k: v for k, v in earlier.items() if k not in training and (out / files.get(k, "-")).exists()}


def _cache(root: Path, settings: Settings, *what: object) -> Path:
    """A cache folder per kind of example and everything that shapes it (embedder, passages,
    features, the evidence ranker the candidates were found with), in the user's cache."""
    shaping = (settings.chunk_chars, settings.chunk_overlap, settings.candidates, settings.evidence_sentences,
               settings.min_support, settings.model_path, settings.prompts_dir, *what)  # fmt: skip
    digest = hashlib.sha256("|".join(map(str, shaping)).encode()).hexdigest()[:12]
    return root / f"{what[2]}-{digest}"


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
