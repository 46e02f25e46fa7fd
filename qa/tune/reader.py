"""Learn the reader: a LoRA adapter for the GGUF model, trained to answer the project's own
prompt with the gold phrase as the evidence writes it.

Examples. Training weeks are not indexed (embedding 78 weeks costs hours): a week's sentences
are searched with BM25 instead, and the best eight become the prompt's evidence. When the
gold answer is in none of them but in a sentence further down, that sentence takes the place
of a random one, so every example can be answered by copying. Held-out examples are the
assistant's own prompts on indexed weeks (its real retrieval), where the evidence holds the
gold answer: the adapter is chosen on the prompts it will see.

Training. The GGUF model is loaded into transformers (dequantised), a peft LoRA is trained on
the answer tokens only, and the adapter is written as a GGUF LoRA that llama-cpp-python loads
beside the model (`lora_path`). Checkpoints let a run outlive one command."""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.eval.run import Pack, ensure_index
from qa.stores.local.lexical import LexicalIndex
from qa.text.normalize import normalize
from qa.text.sentences import is_question, split_sentences
from qa.text.terms import terms
from qa.tune.data import pack_key

READER_EVIDENCE = 8  # sentences in a training prompt, as the assistant shows by default
SEARCH_DEPTH = 50  # BM25 sentences searched for one holding the gold answer
SENTENCE_CHARS = (25, 400)  # sentences shorter or longer than this are not evidence
NOT_SPANS = {"true", "false", "yes", "no"}  # answers a sentence states but does not write


@dataclass
class ReaderExample:
    """A prompt and the phrase the reader should write after it."""

    question_id: str
    prompt: str
    target: str
    golds: list[str]


def gold_span(sentence: str, golds: list[str]) -> str | None:
    """The gold answer as `sentence` writes it (its case, its punctuation between words)."""
    for gold in golds:
        gold_words = normalize(gold).split()
        if not gold_words:
            continue
        pattern = r"(?<!\w)" + r"[\W_]+".join(re.escape(w) for w in gold_words) + r"(?!\w)"
        match = re.search(pattern, sentence, flags=re.IGNORECASE)
        if match:
            return match.group()
    return None


def week_sentences(pack: Pack) -> list[str]:
    """Every statement-like sentence of a pack's articles, each once."""
    seen: dict[str, None] = {}
    for path in pack.corpus:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text = json.loads(line).get("text") or ""
            for start, end in split_sentences(text):
                sentence = text[start:end]
                if SENTENCE_CHARS[0] <= len(sentence) <= SENTENCE_CHARS[1] and not is_question(sentence):
                    seen.setdefault(sentence)
    return list(seen)


def lexical_examples(pack: Pack, render, seed: int) -> list[ReaderExample]:
    """Training examples of one week, with BM25 sentence search as the retriever.

    `render(question, texts)` makes the assistant's prompt."""
    rng = random.Random(f"{seed}:{pack.name}")
    sentences = week_sentences(pack)
    index = LexicalIndex.build(sentences)
    examples = []
    for q in (q for q in pack.questions if q.answerable):
        ranked = [sentences[i] for i, _ in index.search(terms(q.question), SEARCH_DEPTH)]
        holding = next((i for i, s in enumerate(ranked) if gold_span(s, q.answers)), None)
        if holding is None:
            continue
        evidence = ranked[:READER_EVIDENCE]
        if holding >= READER_EVIDENCE:
            evidence[rng.randrange(len(evidence))] = ranked[holding]
        target = next(span for s in evidence if (span := gold_span(s, q.answers)))
        if normalize(target) in NOT_SPANS:
            continue
        examples.append(ReaderExample(q.id, render(q.question, evidence), target, q.answers))
    return examples


def assistant_examples(pack: Pack, assistant) -> list[ReaderExample]:
    """The assistant's own prompts for a week's answerable questions whose evidence writes the
    gold answer (`assistant`: a `qa.answering.assistant.Assistant`)."""
    assistant.use_index(ensure_index(pack, assistant.settings, assistant.embedder))
    examples = []
    for q in (q for q in pack.questions if q.answerable):
        evidence = assistant.retrieve(q.question).evidence
        target = next((span for e in evidence if (span := gold_span(e.text, q.answers))), None)
        if target is None or normalize(target) in NOT_SPANS:
            continue
        prompt = assistant.prompts.render("answer", question=q.question, evidence=evidence)
        examples.append(ReaderExample(q.id, prompt, target, q.answers))
    return examples


def save_examples(examples: list[ReaderExample], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(asdict(e)) + "\n" for e in examples), encoding="utf-8")
    tmp.replace(path)


def load_examples(path: Path) -> list[ReaderExample]:
    return [ReaderExample(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


# --- training ---------------------------------------------------------------------------------

LORA_TARGETS = {  # transformers' module name -> the GGUF tensor it adapts
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}  # fmt: skip
_LORA_NAME = re.compile(r"layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])\.")


@dataclass
class ReaderRecipe:
    """How the adapter is trained (recorded in the card)."""

    rank: int = 16
    alpha: float = 32.0
    learning_rate: float = 2e-4
    epochs: int = 1
    accumulate: int = 8  # examples per optimizer step
    warmup: int = 10  # optimizer steps of linear warm-up
    check_every: int = 25  # optimizer steps between held-out checks (and checkpoints)
    seed: int = 0
    restart_each_epoch: bool = False  # the rate warms up and decays within each epoch (warm restarts)


class Reader:
    """The GGUF model as a trainable transformers model with a LoRA, and llama.cpp's own
    tokenizer, so the token ids trained on are the ones the assistant feeds."""

    def __init__(self, gguf_path: Path, recipe: ReaderRecipe):
        import torch
        from llama_cpp import Llama
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        torch.manual_seed(recipe.seed)
        self.vocab = Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)
        base = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
        )
        config = LoraConfig(
            r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=0.0,
            target_modules=[name.split(".")[1] for name in LORA_TARGETS],
        )  # fmt: skip
        self.model = get_peft_model(base, config)
        self.newline = self.vocab.tokenize(b"\n", add_bos=False, special=False)

    def tokens(self, prompt: str, target: str, end: bool = True) -> tuple[list[int], list[int]]:
        """Prompt ids (with BOS) and answer ids: the phrase as the assistant scores it, then the
        newline that ends it (`end`)."""
        prompt_ids = self.vocab.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        answer = self.vocab.tokenize((" " + target.strip()).encode("utf-8"), add_bos=False)
        return prompt_ids, answer + (self.newline if end else [])

    def answer_logprobs(self, prompt: str, target: str, end: bool = True):
        """Log-probability of each answer token after the prompt (a tensor with gradients)."""
        import torch

        prompt_ids, answer = self.tokens(prompt, target, end)
        ids = torch.tensor([prompt_ids + answer[:-1]])
        logits = self.model(input_ids=ids, logits_to_keep=len(answer)).logits[0]
        return torch.log_softmax(logits, dim=-1)[torch.arange(len(answer)), torch.tensor(answer)]

    def loss(self, example: ReaderExample):
        """Mean negative log-likelihood of the answer tokens."""
        return -self.answer_logprobs(example.prompt, example.target).mean()

    def generate(self, prompt: str, max_tokens: int = 12) -> str:
        """Greedy answer, cut at the first newline (as the assistant cuts it)."""
        import torch

        ids = self.vocab.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        with torch.no_grad():
            out = self.model.generate(
                input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=max_tokens, do_sample=False,
            )  # fmt: skip
        text = self.vocab.detokenize(out[0, len(ids) :].tolist()).decode("utf-8", errors="ignore")
        return text.split("\n")[0].strip()

    def lora_state(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.named_parameters() if "lora_" in k}

    def load_lora_state(self, state: dict) -> None:
        params = dict(self.model.named_parameters())
        for name, value in state.items():
            params[name].data.copy_(value)


def held_out_accuracy(reader: Reader, examples: list[ReaderExample]) -> float:
    """Share of held-out prompts whose greedy answer holds a gold answer (the eval's rule)."""
    from qa.eval.metrics import is_correct

    reader.model.eval()
    right = sum(is_correct(reader.generate(e.prompt), e.golds) for e in examples)
    return right / max(1, len(examples))


def write_gguf_lora(state: dict, alpha: float, path: Path) -> None:
    """Write a peft LoRA as a GGUF adapter (f16), the file llama.cpp's `lora_path` loads.

    llama.cpp scales each adapted product by alpha / rank, as peft does."""
    import gguf
    import numpy as np

    tmp = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), "gemma3")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for name in sorted(state):
        match = _LORA_NAME.search(name)
        if not match or match.group(2) not in LORA_TARGETS:
            raise ValueError(f"not a LoRA weight of a known module: {name}")
        layer, module, side = match.groups()
        tensor_name = f"blk.{layer}.{LORA_TARGETS[module]}.weight.lora_{side.lower()}"
        writer.add_tensor(tensor_name, state[name].float().numpy().astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)


def rate_factor(step: int, epoch_steps: int, recipe: ReaderRecipe) -> float:
    """The learning rate at `step` as a share of the recipe's: a linear warm-up, then a linear
    decay to zero at the end of the run, or of each epoch when the recipe restarts."""
    span = epoch_steps if recipe.restart_each_epoch else epoch_steps * recipe.epochs
    step = step % span
    if step < recipe.warmup:
        return (step + 1) / recipe.warmup
    return max(0.0, (span - step) / max(1, span - recipe.warmup))


def train_reader(
    train: list[ReaderExample], held: list[ReaderExample], gguf_path: Path, out: Path,
    recipe: ReaderRecipe, reader: Reader | None = None,
) -> dict:  # fmt: skip
    """Train the adapter; checkpoint every `check_every` steps; keep the state that answers the
    held-out prompts best (the untrained model counts: a LoRA that never helps is not kept).
    Returns the training record (the held-out curve, the chosen step). `reader`: one already
    loaded with `recipe` (loading takes about a minute)."""
    import torch
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    checkpoint, log_path = out / "reader_checkpoint.pt", out / "reader_log.jsonl"
    reader = reader or Reader(gguf_path, recipe)
    params = [p for p in reader.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=0.0)
    epoch_steps = max(1, len(train) // recipe.accumulate)  # each epoch drops its last partial batch
    orders = [
        random.Random(f"{recipe.seed}:{epoch}").sample(range(len(train)), len(train))
        for epoch in range(recipe.epochs)
    ]
    total_steps = epoch_steps * recipe.epochs

    def batch_of(step: int) -> list[int]:
        within = step % epoch_steps
        return orders[step // epoch_steps][within * recipe.accumulate : (within + 1) * recipe.accumulate]

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: rate_factor(s, epoch_steps, recipe))
    record = {"steps": total_steps, "curve": [], "best_step": 0, "best_accuracy": None}
    step = 0
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        reader.load_lora_state(saved["lora"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        step, record = saved["step"], {**saved["record"], "steps": total_steps}
    else:
        accuracy = held_out_accuracy(reader, held)
        record["curve"].append({"step": 0, "held_out_accuracy": accuracy, "train_loss": None})
        record["best_accuracy"] = accuracy
        torch.save(reader.lora_state(), out / "reader_best.pt")
    bar = tqdm(total=total_steps, initial=step, desc="reader", unit="step")
    losses: list[float] = []
    while step < total_steps:
        reader.model.train()
        batch = batch_of(step)
        for i in batch:
            loss = reader.loss(train[i]) / len(batch)
            loss.backward()
            losses.append(float(loss.detach()) * len(batch))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        bar.update()
        if step % recipe.check_every == 0 or step == total_steps:
            accuracy = held_out_accuracy(reader, held)
            point = {"step": step, "held_out_accuracy": accuracy, "train_loss": sum(losses) / len(losses)}
            record["curve"].append(point)
            losses = []
            with log_path.open("a") as log:
                log.write(json.dumps(point) + "\n")
            if accuracy > record["best_accuracy"]:
                record["best_accuracy"], record["best_step"] = accuracy, step
                torch.save(reader.lora_state(), out / "reader_best.pt")
            tmp = checkpoint.with_suffix(".tmp")
            state = {"lora": reader.lora_state(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "step": step, "record": record}  # fmt: skip
            torch.save(state, tmp)
            tmp.replace(checkpoint)
    bar.close()
    return record


# --- the `qa tune` part ---------------------------------------------------------------------


def cached_lexical_examples(packs: list[Pack], settings, seed: int, folder: Path) -> list[ReaderExample]:
    """Each week's training examples, made once and kept in `folder`."""
    from tqdm import tqdm

    from qa.answering.prompts import PromptLibrary

    prompts = PromptLibrary(settings.prompts_dir)

    def render(question: str, texts: list[str]) -> str:
        return prompts.render("answer", question=question, evidence=[{"text": t} for t in texts])

    folder.mkdir(parents=True, exist_ok=True)
    examples = []
    for pack in tqdm(packs, desc="reader examples", unit="week"):
        path = folder / f"{pack_key(pack)}.jsonl"
        if not path.exists():
            save_examples(lexical_examples(pack, render, seed), path)
        examples += load_examples(path)
    return examples


def held_out_examples(packs: list[Pack], settings, tuned: str) -> list[ReaderExample]:
    """The assistant's own prompts on the held-out weeks (evidence as `tuned` ranks it)."""
    from qa.answering.assistant import Assistant

    assistant = Assistant(settings=settings.replace(tuned=tuned))
    return [e for pack in packs for e in assistant_examples(pack, assistant)]


def model_identity(path: Path) -> dict:
    """What ties an adapter to its model file (`qa.answering.tuned.TunedParts.reader_for`)."""
    return {"name": path.name, "bytes": path.stat().st_size}


def train_and_write_reader(
    train: list[ReaderExample], held: list[ReaderExample], settings, out: Path, recipe: ReaderRecipe,
    reader: Reader | None = None,
) -> dict:  # fmt: skip
    """Train the adapter (resuming from `out`'s checkpoint) and write the chosen state as
    `reader_lora.gguf` with `reader.json`; returns the card's metrics."""
    import torch

    from qa.answering.tuned import READER_ADAPTER, READER_BASE
    from qa.errors import IngestError
    from qa.models.generator import default_model_path

    if not train or not held:
        raise IngestError(
            f"The reader needs examples to train on and to hold out ({len(train)} and {len(held)}): "
            "no answerable question had its answer in the sentences found."
        )
    model = Path(settings.model_path).expanduser() if settings.model_path else default_model_path()
    work = out / "reader_work"
    record = train_reader(train, held, model, work, recipe, reader)
    adapter = out / READER_ADAPTER
    if record["best_step"] == 0:
        adapter.unlink(missing_ok=True)  # training never beat the model as it is: no adapter
    else:
        write_gguf_lora(torch.load(work / "reader_best.pt", weights_only=True), recipe.alpha, adapter)
    info = {"base": model_identity(model), "recipe": asdict(recipe), "record": record}
    (out / READER_BASE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return {
        "train_examples": len(train), "holdout_examples": len(held), "recipe": asdict(recipe),
        "holdout_answer_right": {"base": record["curve"][0]["held_out_accuracy"],
                                 "learned": record["best_accuracy"]},
        "best_step": record["best_step"], "steps": record["steps"], "curve": record["curve"],
        "kept": record["best_step"] > 0,
    }  # fmt: skip
