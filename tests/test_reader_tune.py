"""The reader adapter (`qa tune --parts reader`): examples from invented weeks, a LoRA trained
on the real model, written as a GGUF adapter that llama.cpp applies as transformers does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.answering.prompts import PromptLibrary
from qa.answering.tuned import READER_ADAPTER, READER_BASE, load_tuned
from qa.config import Settings
from qa.errors import ModelError
from qa.eval.run import load_pack
from qa.models.generator import Generator, default_model_path
from qa.models.merge import merged_model
from qa.tune.reader import (
    Reader,
    ReaderExample,
    ReaderRecipe,
    gold_span,
    lexical_examples,
    model_identity,
    train_and_write_reader,
    write_gguf_lora,
)
from tests.conftest import SEED_QUESTION
from tests.test_tune import _week

TINY = ReaderRecipe(rank=4, alpha=8.0, learning_rate=1e-3, accumulate=2, warmup=1, check_every=2)


def test_gold_span_is_the_answer_as_the_sentence_writes_it() -> None:
    sentence = "The award went to MIRA SOLBERG-Ruiz, the council said."
    assert gold_span(sentence, ["Mira Solberg Ruiz"]) == "MIRA SOLBERG-Ruiz"
    assert gold_span(sentence, ["Solberg"]) == "SOLBERG"
    assert gold_span(sentence, ["Mira Sol"]) is None  # whole words only
    assert gold_span(sentence, ["", "council"]) == "council"


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _week(tmp_path_factory.mktemp("reader") / "20260101", 1)


def test_lexical_examples_put_the_answer_in_the_prompt(week: Path, settings: Settings) -> None:
    prompts = PromptLibrary(settings.prompts_dir)

    def render(question: str, texts: list[str]) -> str:
        return prompts.render("answer", question=question, evidence=[{"text": t} for t in texts])

    examples = lexical_examples(load_pack(week), render, seed=0)
    assert len(examples) == 4
    for e in examples:
        assert e.prompt.endswith("Answer:") and f"{e.target} led the" in e.prompt
        assert e.target in e.golds
    assert lexical_examples(load_pack(week), render, seed=0) == examples  # seeded


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(default_model_path(), TINY)


PROMPT = (
    "Sentences:\n- The bridge in Tallport opened on Monday.\nQuestion: Which town opened a bridge?\nAnswer:"
)
EXAMPLE = ReaderExample("x", PROMPT, "Tallport", ["Tallport"])


@pytest.fixture(scope="module")
def adapted(reader: Reader, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A tuned folder holding a (random) reader adapter, and how far it moves the
    log-probability transformers gives EXAMPLE's answer."""
    import torch

    def logprob() -> float:
        with torch.no_grad():
            return float(reader.answer_logprobs(EXAMPLE.prompt, EXAMPLE.target, end=False).sum())

    folder = tmp_path_factory.mktemp("adapted")
    before = logprob()
    torch.manual_seed(1)
    state = reader.lora_state()
    for name, value in state.items():  # peft starts B at zero (no change): give it some
        if "lora_B" in name:
            value.normal_(0, 0.06)
    reader.load_lora_state(state)
    moved = logprob() - before
    write_gguf_lora(state, TINY.alpha, folder / READER_ADAPTER)
    (folder / READER_BASE).write_text(json.dumps({"base": model_identity(default_model_path())}))
    reader.load_lora_state({name: torch.zeros_like(value) for name, value in state.items()})
    return folder, moved


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where merged models are kept (a merge takes about a minute)."""
    return tmp_path_factory.mktemp("cache")


def test_the_gguf_adapter_changes_llama_cpp_as_the_lora_changes_transformers(
    adapted: tuple[Path, float], cache: Path
) -> None:
    folder, expected = adapted  # how far the LoRA moves transformers' log-probability
    model, adapter = default_model_path(), folder / READER_ADAPTER

    def logprob(generator: Generator) -> float:
        return generator.score_continuations(EXAMPLE.prompt, [EXAMPLE.target])[0]

    base = logprob(Generator(model, n_ctx=512))
    applied = Generator(model, n_ctx=512, lora_path=adapter)
    assert applied.name.endswith(f"+ {READER_ADAPTER}")
    merged = merged_model(model, adapter, cache)
    assert merged_model(model, adapter, cache) == merged  # made once
    # The adapter, applied at run time or merged, moves llama.cpp's log-probability as far as it
    # moves transformers' (the base model is 4-bit there and dequantised here: close, not equal).
    assert abs(expected) > 1.0
    for moved in (logprob(applied) - base, logprob(Generator(merged, n_ctx=512)) - base):
        assert abs(moved - expected) < 0.25 * abs(expected), (expected, moved)


def test_the_assistant_answers_with_a_reader_adapter(
    adapted: tuple[Path, float], settings: Settings, cache: Path
) -> None:
    from qa.answering.assistant import Assistant

    folder, _ = adapted
    local = settings.replace(tuned=str(folder), cache_dir=cache)
    assistant = Assistant(settings=local)
    assert assistant.generator.name == f"{default_model_path().name} + {READER_ADAPTER}"
    answer = assistant.ask(SEED_QUESTION)
    assert answer.model == assistant.generator.name
    assert answer.abstained or answer.citations  # a random adapter may well make it doubt
    for c in answer.citations:  # exact sentences of the indexed article, whatever the reader wrote
        assert assistant.index.articles[c.article_id].text[c.start : c.end] == c.sentence


def test_training_keeps_the_adapter_only_when_it_answers_held_out_prompts_better(
    reader: Reader, settings: Settings, tmp_path: Path
) -> None:
    prompt = "Sentences:\n- The prize went to {}.\nQuestion: Who won the prize?\nAnswer:"
    names = ["Ivo Kestrel", "Ana Ruiz", "Tomas Varga", "Mira Solberg"]
    train = [ReaderExample(f"t{n}", prompt.format(name), name, [name]) for n, name in enumerate(names)]
    held = train[:2]
    metrics = train_and_write_reader(train, held, settings, tmp_path, TINY, reader=reader)
    assert metrics["steps"] == 2 and [p["step"] for p in metrics["curve"]] == [0, 2]
    info = json.loads((tmp_path / READER_BASE).read_text())
    assert info["base"] == {"name": default_model_path().name, "bytes": default_model_path().stat().st_size}
    # The adapter is written only when it answers the held-out prompts better than the model alone.
    right = metrics["holdout_answer_right"]
    assert metrics["kept"] == (right["learned"] > right["base"]) == (tmp_path / READER_ADAPTER).is_file()
    # A second run resumes from the checkpoint and trains no further.
    again = train_and_write_reader(train, held, settings, tmp_path, TINY, reader=reader)
    assert again["curve"] == metrics["curve"]


def test_a_reader_for_another_model_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / READER_ADAPTER).write_bytes(b"GGUF")
    (tmp_path / READER_BASE).write_text(json.dumps({"base": {"name": "other.gguf", "bytes": 1}}))
    parts = load_tuned(str(tmp_path))
    assert parts.reader == tmp_path / READER_ADAPTER
    assert parts.reader_for(default_model_path()) is None
    (tmp_path / READER_BASE).write_text("{")
    with pytest.raises(ModelError, match="reader adapter's model"):
        load_tuned(str(tmp_path))


def test_a_corrupt_adapter_is_a_clear_model_error(tmp_path: Path) -> None:
    (tmp_path / READER_ADAPTER).write_bytes(b"not a gguf file")
    with pytest.raises(ModelError, match="adapter"):
        Generator(default_model_path(), n_ctx=512, lora_path=tmp_path / READER_ADAPTER)
    with pytest.raises(ModelError, match="Reader adapter not found"):
        Generator(default_model_path(), n_ctx=512, lora_path=tmp_path / "missing.gguf")


def test_tune_trains_the_reader_from_packs_and_writes_its_card(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> None:
    from qa.tune.run import run_tune

    root = tmp_path_factory.mktemp("reader-run")
    for week in range(3):
        _week(root / "weeks" / f"2026010{week}", week)
    local = settings.replace(index_dir=root / "indexes")
    card = run_tune([root / "weeks"], root / "out", holdout=1, settings=local, cache=root / "cache",
                    parts=("reader",), reader_recipe=TINY)  # fmt: skip
    m = card["parts"]["reader"]
    assert m["train_examples"] == 8 and m["holdout_examples"] == 4  # every answer is in its week's sentences
    assert m["kept"] == (root / "out" / READER_ADAPTER).is_file()
    assert (root / "out" / READER_BASE).is_file()
    assert "## Reader adapter" in (root / "out" / "card.md").read_text()
    assert sorted(p.name for p in (root / "cache").rglob("*.jsonl")) == [
        "20260100-4.jsonl",
        "20260101-4.jsonl",
    ]
