"""Learn the embedder: the packaged MiniLM fine-tuned so that a news question lies near the
sentences that answer it.

Examples. Training weeks are not indexed (embedding 78 weeks costs hours): a week's sentences,
each read with its article's title, are searched with BM25. Positives are the best-ranked
sentences that hold a gold answer (up to two; when none of the first `SEARCH_DEPTH` does, the
quiz's own evidence sentence that holds it); hard negatives are the best-ranked sentences that do
not hold it. So the model learns what lexical search alone gets wrong: which of the sentences
sharing the question's words answers it.

Training. Multiple-negatives ranking loss: each question against every positive and hard
negative of its batch. The held-out weeks' questions rank their own positives and negatives
after each half epoch (mean reciprocal rank of the first positive); the best state is kept, and
the untrained model counts, so a tune that never helps is not kept. Written as a
sentence-transformers folder (`embedder/`) with its int8 ONNX export beside the weights.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.eval.metrics import evidence_found
from qa.eval.run import Pack
from qa.stores.local.lexical import LexicalIndex
from qa.text.sentences import is_question, split_sentences
from qa.text.terms import terms
from qa.tune.data import pack_key

SEARCH_DEPTH = 200  # BM25 sentences searched for positives
NEGATIVE_DEPTH = 30  # hard negatives come from the best-ranked sentences
POSITIVES, NEGATIVES = 2, 8  # kept per question
SENTENCE_CHARS = (30, 400)
EXAMPLE_SHAPE = (SEARCH_DEPTH, NEGATIVE_DEPTH, POSITIVES, NEGATIVES, SENTENCE_CHARS)  # keys the example cache


@dataclass
class EmbedderExample:
    question_id: str
    query: str
    positives: list[str]
    negatives: list[str]


@dataclass
class EmbedderRecipe:
    """How the embedder is trained (recorded in the card)."""

    epochs: int = 3
    batch: int = 32  # questions per step; each brings a positive and a hard negative
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    scale: float = 20.0  # cosine similarities times this are the loss's logits
    hard_negatives: int = 4  # a step's negative is drawn from a question's first this many
    train_tokens: int = 128  # texts are cut here in training (sentences are short); use keeps the model's
    checks_per_epoch: int = 2
    seed: int = 0
    base: str = field(default="")  # the model tuned (a folder; empty: the packaged MiniLM)


def titled_sentences(pack: Pack) -> tuple[list[str], list[str]]:
    """Every statement-like sentence of a pack's articles, with its article's title."""
    sentences, titles = [], []
    for path in pack.corpus:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            article = json.loads(line)
            text, title = article.get("text") or "", article.get("title") or ""
            for start, end in split_sentences(text):
                sentence = text[start:end]
                if SENTENCE_CHARS[0] <= len(sentence) <= SENTENCE_CHARS[1] and not is_question(sentence):
                    sentences.append(sentence)
                    titles.append(title)
    return sentences, titles


def embedder_examples(pack: Pack) -> list[EmbedderExample]:
    """One week's examples, with BM25 over title + sentence as the miner."""
    from qa.answering.retrieve import clean_query

    sentences, titles = titled_sentences(pack)
    if not sentences:
        return []
    index = LexicalIndex.build([f"{title} {text}" for text, title in zip(sentences, titles, strict=True)])
    examples = []
    for q in (q for q in pack.questions if q.answerable):
        query = clean_query(q.question)
        ranked = [i for i, score in index.search(terms(query), SEARCH_DEPTH) if score > 0]
        holds = [evidence_found([sentences[i]], q.answers) for i in ranked]
        positives = [sentences[i] for i, h in zip(ranked, holds, strict=True) if h][:POSITIVES]
        near = zip(ranked[:NEGATIVE_DEPTH], holds[:NEGATIVE_DEPTH], strict=True)
        negatives = [sentences[i] for i, h in near if not h]
        if not positives and q.evidence:
            positives = [e for e in q.evidence if evidence_found([e], q.answers)][:1]
        if positives and negatives:
            examples.append(EmbedderExample(q.id, query, positives, negatives[:NEGATIVES]))
    return examples


def cached_embedder_examples(packs: list[Pack], folder: Path) -> list[EmbedderExample]:
    """Each week's examples, made once and kept in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    examples: list[EmbedderExample] = []
    for pack in tqdm(packs, desc="embedder examples", unit="week"):
        path = folder / f"{pack_key(pack)}.jsonl"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(asdict(e)) + "\n" for e in embedder_examples(pack)))
            tmp.replace(path)
        examples += [EmbedderExample(**json.loads(line)) for line in path.read_text().splitlines()]
    return examples


def held_out_rank(model, examples: list[EmbedderExample]) -> dict:
    """Each question's own positives and negatives ranked by the model: the mean reciprocal rank
    of the first positive, and how often it is first."""
    reciprocal, first = [], []
    for e in examples:
        texts = [e.query, *e.positives, *e.negatives]
        vectors = model.encode(texts, normalize_embeddings=True, batch_size=64)
        order = np.argsort(-(vectors[1:] @ vectors[0]), kind="stable")
        rank = int(np.flatnonzero(order < len(e.positives))[0])
        reciprocal.append(1 / (rank + 1))
        first.append(rank == 0)
    return {"mrr": round(float(np.mean(reciprocal)), 4), "first": round(float(np.mean(first)), 4)}


def train_embedder(
    train: list[EmbedderExample], held: list[EmbedderExample], base: Path, work: Path, recipe: EmbedderRecipe
) -> dict:
    """Train from `base`; check (and checkpoint) `checks_per_epoch` times an epoch; the best state
    is saved in `work/best` (the base model counts). Resumes from `work`'s checkpoint."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(recipe.seed)
    work.mkdir(parents=True, exist_ok=True)
    checkpoint, best_dir = work / "checkpoint.pt", work / "best"
    model = SentenceTransformer(str(base), device="cpu")
    use_tokens = model.max_seq_length
    model.max_seq_length = recipe.train_tokens
    batches = max(1, len(train) // recipe.batch)  # each epoch drops its last partial batch
    total = batches * recipe.epochs
    check_every = max(1, batches // recipe.checks_per_epoch)
    warmup = max(1, int(total * recipe.warmup_share))
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    orders = [random.Random(f"{recipe.seed}:{epoch}").sample(range(len(train)), len(train))
              for epoch in range(recipe.epochs)]  # fmt: skip

    def save_best() -> None:
        """Written beside, then moved into place: `best/` is always a whole model."""
        staging = work / "best.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        model.max_seq_length = use_tokens
        model.save(str(staging))
        model.max_seq_length = recipe.train_tokens
        shutil.rmtree(best_dir, ignore_errors=True)
        staging.replace(best_dir)

    # A checkpoint of another run (other examples, recipe or base model) is not resumed.
    key = _run_key(train, held, base, recipe)
    record: dict = {"steps": total, "curve": [], "best_step": 0}
    step = 0
    saved = torch.load(checkpoint, weights_only=False) if checkpoint.exists() else None
    if saved is not None and saved.get("key") == key:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        step, record = saved["step"], saved["record"]
    else:
        model.eval()
        record["curve"].append({"step": 0, **held_out_rank(model, held), "train_loss": None})
        save_best()

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    losses: list[float] = []
    bar = tqdm(total=total, initial=step, desc="embedder", unit="step")
    while step < total:
        model.train()
        start = (step % batches) * recipe.batch
        rows = [train[i] for i in orders[step // batches][start : start + recipe.batch]]
        draw = random.Random(f"{recipe.seed}:step:{step}")
        questions = embed([e.query for e in rows])
        texts = embed([draw.choice(e.positives) for e in rows] +
                      [draw.choice(e.negatives[: recipe.hard_negatives]) for e in rows])  # fmt: skip
        logits = recipe.scale * questions @ texts.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(rows)))
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        step += 1
        bar.update()
        if step % check_every == 0 or step == total:
            model.eval()
            loss_mean = round(float(np.mean(losses)), 4)
            point = {"step": step, **held_out_rank(model, held), "train_loss": loss_mean}
            losses = []
            record["curve"].append(point)
            best = max(record["curve"], key=lambda p: p["mrr"])  # the earliest of equals
            if best is point:
                record["best_step"] = step
                save_best()
            tmp = checkpoint.with_suffix(".tmp")
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "key": key,
                     "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(), "step": step,
                     "record": record}  # fmt: skip
            torch.save(state, tmp)
            tmp.replace(checkpoint)
    bar.close()
    return record


def _run_key(
    train: list[EmbedderExample], held: list[EmbedderExample], base: Path, recipe: EmbedderRecipe
) -> str:
    """What a checkpoint must match to be resumed."""
    from qa.models.embedder import model_name

    digest = hashlib.sha256(json.dumps([asdict(recipe), model_name(base)]).encode())
    for e in (*train, *held):
        digest.update(json.dumps(asdict(e)).encode())
    return digest.hexdigest()


def train_and_write_embedder(
    train: list[EmbedderExample], held: list[EmbedderExample], out: Path, recipe: EmbedderRecipe
) -> dict:
    """Train (resuming from `out`'s work folder) and write the chosen state as `out/embedder`,
    with its int8 ONNX export; returns the card's metrics. A tune that never beat the base model
    writes no embedder."""
    from qa.answering.tuned import EMBEDDER
    from qa.errors import IngestError, ModelError
    from qa.models.embedder import DEFAULT_EMBEDDER, NAME_FILE, default_embedder_path, model_name
    from qa.models.onnx_encoder import UnsupportedModel, export_into

    if len(train) < recipe.batch or not held:
        raise IngestError(
            f"The embedder needs a batch of examples to train on and some to hold out ({len(train)} and "
            f"{len(held)}, batch {recipe.batch}): no answerable question had a sentence holding its answer."
        )
    base = Path(recipe.base).expanduser() if recipe.base else default_embedder_path()
    work = out / "embedder_work"
    record = train_embedder(train, held, base, work, recipe)
    target = out / EMBEDDER
    if not record["best_step"]:
        shutil.rmtree(target, ignore_errors=True)  # training never beat the base model: no embedder
    else:
        staging = out / ".embedder-staging"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(work / "best", staging)
        try:
            onnx = export_into(staging)
        except UnsupportedModel as exc:
            raise ModelError(f"The tuned embedder cannot be exported to ONNX: {exc}") from exc
        # Named for what it was tuned from and for its weights: an index built with it refuses others.
        digest = hashlib.sha256(onnx.read_bytes()).hexdigest()[:10]
        name = f"{model_name(base)}-tuned-{digest}"
        (staging / NAME_FILE).write_text(json.dumps({"name": name}) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
    curve = record["curve"]
    return {
        "train_examples": len(train), "holdout_examples": len(held),
        "recipe": asdict(recipe) | {"base": recipe.base or f"{DEFAULT_EMBEDDER} (packaged)"},
        "holdout_mrr": {"base": curve[0]["mrr"], "learned": max(p["mrr"] for p in curve)},
        "holdout_first": {"base": curve[0]["first"],
                          "learned": next(p["first"] for p in curve if p["step"] == record["best_step"])},
        "best_step": record["best_step"], "steps": record["steps"], "curve": curve,
        "kept": record["best_step"] > 0,
    }  # fmt: skip
