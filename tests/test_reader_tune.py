"""The reader adapter (`qa tune --parts reader`): examples from invented weeks, a LoRA trained
on the real model, written as a GGUF adapter that llama.cpp applies as transformers does."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from qa.answering.decide import UNLIKELY
from qa.answering.prompts import PromptLibrary
from qa.answering.tuned import READER_ADAPTER, READER_BASE, load_tuned
from qa.config import Settings
from qa.errors import ModelError
from qa.eval.run import load_pack
from qa.models.generator import Generator, default_model_path
from qa.models.merge import merged_model
from qa.tune.data import pack_key
from qa.tune.reader import (
    Reader,
    ReaderExample,
    ReaderRecipe,
    gold_span,
    lexical_examples,
    model_identity,
    rate_factor,
    train_and_write_reader,
    write_gguf_lora,
)
from qa.tune.threshold import STEP, Outcome, calibrate, matched_threshold, scores
from tests.conftest import SEED_QUESTION, invented_week

TINY = ReaderRecipe(rank=4, alpha=8.0, learning_rate=1e-3, accumulate=2, warmup=1, check_every=2)


def test_gold_span_is_the_answer_as_the_sentence_writes_it() -> None:
    sentence = "The award went to MIRA SOLBERG-Ruiz, the council said."
    assert gold_span(sentence, ["Mira Solberg Ruiz"]) == "MIRA SOLBERG-Ruiz"
    assert gold_span(sentence, ["Solberg"]) == "SOLBERG"
    assert gold_span(sentence, ["Mira Sol"]) is None  # whole words only
    assert gold_span(sentence, ["", "council"]) == "council"


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return invented_week(tmp_path_factory.mktemp("reader") / "20260101", 1)


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


def _examples(prompt: str, answers: list[str]) -> list[ReaderExample]:
    """One example per answer: `prompt` with the answer in its sentence, the answer as target."""
    return [ReaderExample(f"t{n}", prompt.format(a), a, [a]) for n, a in enumerate(answers)]


def test_training_keeps_the_adapter_only_when_it_answers_held_out_prompts_better(
    reader: Reader, settings: Settings, tmp_path: Path
) -> None:
    prompt = "Sentences:\n- The prize went to {}.\nQuestion: Who won the prize?\nAnswer:"
    train = _examples(prompt, ["Ivo Kestrel", "Ana Ruiz", "Tomas Varga", "Mira Solberg"])
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


def test_the_rate_decays_over_the_run_or_restarts_each_epoch() -> None:
    run = ReaderRecipe(epochs=2, warmup=2)
    restarts = ReaderRecipe(epochs=2, warmup=2, restart_each_epoch=True)
    assert [rate_factor(s, 6, run) for s in range(12)] == [
        0.5, 1.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1
    ]  # fmt: skip
    assert [rate_factor(s, 6, restarts) for s in range(12)] == [0.5, 1.0, 1.0, 0.75, 0.5, 0.25] * 2


def test_a_run_with_more_epochs_resumes_from_the_last_one_s_checkpoint(
    reader: Reader, settings: Settings, tmp_path: Path
) -> None:
    prompt = "Sentences:\n- The ferry left from {}.\nQuestion: Where did the ferry leave from?\nAnswer:"
    train = _examples(prompt, ["Harwick", "Port Elmo", "Saltby", "Ostrava Bay"])
    once = train_and_write_reader(train, train[:2], settings, tmp_path, TINY, reader=reader)
    more = replace(TINY, epochs=2, restart_each_epoch=True)
    twice = train_and_write_reader(train, train[:2], settings, tmp_path, more, reader=reader)
    assert once["steps"] == 2 and twice["steps"] == 4
    assert twice["curve"][: len(once["curve"])] == once["curve"]
    assert [p["step"] for p in twice["curve"]] == [0, 2, 4]


def test_a_reader_for_another_model_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / READER_ADAPTER).write_bytes(b"GGUF")
    (tmp_path / READER_BASE).write_text(json.dumps({"base": {"name": "other.gguf", "bytes": 1}}))
    parts = load_tuned(str(tmp_path))
    assert parts.reader == tmp_path / READER_ADAPTER
    assert parts.reader_for(default_model_path()) is None
    (tmp_path / READER_BASE).write_text("{")
    with pytest.raises(ModelError, match="reader adapter's model"):
        load_tuned(str(tmp_path))
    for threshold in ("1.5", "NaN"):  # not a log-probability: refused, not silently used
        (tmp_path / READER_BASE).write_text(
            f'{{"base": {{"name": "x", "bytes": 1}}, "min_answer_logprob": {threshold}}}'
        )
        with pytest.raises(ModelError, match="min_answer_logprob"):
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
        invented_week(root / "weeks" / f"2026010{week}", week)
    local = settings.replace(index_dir=root / "indexes")
    card = run_tune([root / "weeks"], root / "out", holdout=1, settings=local, cache=root / "cache",
                    parts=("reader",), reader_recipe=TINY)  # fmt: skip
    m = card["parts"]["reader"]
    assert m["train_examples"] == 8 and m["holdout_examples"] == 4  # every answer is in its week's sentences
    assert m["kept"] == (root / "out" / READER_ADAPTER).is_file()
    assert (root / "out" / READER_BASE).is_file()
    assert "## Reader adapter" in (root / "out" / "card.md").read_text()
    # A kept adapter gets its likelihood threshold calibrated on the held-out week (which has no
    # unanswerable question here: nothing to calibrate on, so the model's threshold stays).
    info = json.loads((root / "out" / READER_BASE).read_text())
    assert ("reader_threshold" in card) == ("calibration" in info) == m["kept"]
    assert info.get("min_answer_logprob") is None
    # The training weeks' examples are cached under each week's content.
    assert sorted(p.name for p in (root / "cache").rglob("*.jsonl")) == [
        f"{pack_key(load_pack(root / 'weeks' / week))}.jsonl" for week in ("20260100", "20260101")
    ]


def test_a_folder_s_reader_is_calibrated_last_with_the_parts_trained_beside_it(
    adapted: tuple[Path, float], settings: Settings, cache: Path, tmp_path: Path
) -> None:
    import shutil

    from qa.tune.run import run_tune

    out = tmp_path / "out"
    shutil.copytree(adapted[0], out)  # a reader from an earlier run
    for week in range(3):
        invented_week(tmp_path / "weeks" / f"2026010{week}", week)
    with (tmp_path / "weeks" / "20260102" / "questions.jsonl").open("a") as handle:  # held out
        handle.write(json.dumps({"id": "u", "question": "Who led the harbour project in Oslo?",
                                 "answers": ["Nobody"], "answerable": False}) + "\n")  # fmt: skip
    # One evidence sentence, where a learned evidence ranker beats the hand rule and is kept.
    local = settings.replace(index_dir=tmp_path / "indexes", cache_dir=cache, evidence_sentences=1)
    card = run_tune([tmp_path / "weeks"], out, holdout=1, settings=local, cache=tmp_path / "cache",
                    parts=("evidence",))  # fmt: skip
    assert card["parts"]["evidence"]["kept"]
    c = card["reader_threshold"]  # answered with the new evidence ranker, with and without the reader
    assert c["model_alone"]["answerable"] == 4 and c["min_answer_logprob"] is not None
    info = json.loads((out / READER_BASE).read_text())
    assert info["min_answer_logprob"] == c["min_answer_logprob"] and info["base"]
    assert load_tuned(str(out)).reader_min_answer_logprob == c["min_answer_logprob"]
    assert "## Reader likelihood threshold" in (out / "card.md").read_text()


def _outcomes(logprobs: list[float | None], answerable: bool) -> list[Outcome]:
    return [Outcome(answerable, False, answerable, p) for p in logprobs]


def test_the_reader_threshold_keeps_the_model_alone_s_abstention() -> None:
    # The model alone withholds 2 of 4 unanswerable phrases at -6.75; the adapter is surer of
    # everything, so its threshold must be stricter to withhold 2 of 4.
    base = _outcomes([-9.0, -7.0, -3.0, -1.0], answerable=False) + _outcomes([-2.0], answerable=True)
    adapted = _outcomes([-2.6, -1.9, -0.6, -0.2], answerable=False) + _outcomes([-1.0], answerable=True)
    assert scores(base, -6.75)["abstention"] == 0.5
    chosen = matched_threshold(base, adapted, -6.75)
    assert chosen == -1.75  # the least strict step withholding -2.6 and -1.9
    assert scores(adapted, chosen)["abstention"] == 0.5
    assert scores(adapted, chosen - STEP)["abstention"] < 0.5
    # A phrase the threshold does not apply to (None) is never withheld; no unanswerable
    # questions leave nothing to calibrate on.
    assert scores(_outcomes([None], answerable=False), 0.0)["abstention"] == 0.0
    assert matched_threshold(adapted[-1:], adapted[-1:], -6.75) is None


def test_calibrate_answers_held_out_questions_with_and_without_the_reader(
    adapted: tuple[Path, float], settings: Settings, cache: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from qa.answering.assistant import Assistant

    folder, _ = adapted
    week = invented_week(tmp_path / "20260105", 5)
    with (week / "questions.jsonl").open("a") as handle:  # one the week's articles do not answer
        handle.write(json.dumps({"id": "u", "question": "Who led the harbour project in Oslo?",
                                 "answers": ["Nobody"], "answerable": False}) + "\n")  # fmt: skip
    local = settings.replace(cache_dir=cache)
    parts = load_tuned(str(folder))
    model = default_model_path().name
    assert Assistant(settings=local, tuned=replace(parts, reader=None)).generator.name == model
    c = calibrate([load_pack(week)], local, parts)
    assert c["model_alone"]["answerable"] == c["reader_at_own_threshold"]["answerable"] == 4
    assert c["min_answer_logprob"] is not None and -20.0 <= c["min_answer_logprob"] <= 0.0
    assert c["reader_at_own_threshold"]["abstention"] >= c["model_alone"]["abstention"]
    assert c["model_alone"]["threshold"] == c["reader_at_model_threshold"]["threshold"] == -6.75
    assert c["reader_at_own_threshold"]["threshold"] == c["min_answer_logprob"]


def test_the_assistant_uses_the_reader_s_threshold_unless_one_is_set(
    reader: Reader, adapted: tuple[Path, float], settings: Settings, cache: Path, tmp_path: Path
) -> None:
    from qa.answering.assistant import Assistant

    # A zero adapter (the model as it is, merged) calibrated so strictly that nothing passes.
    write_gguf_lora(reader.lora_state(), TINY.alpha, tmp_path / READER_ADAPTER)
    info = {"base": model_identity(default_model_path()), "min_answer_logprob": 0.0}
    (tmp_path / READER_BASE).write_text(json.dumps(info))
    local = settings.replace(tuned=str(tmp_path), cache_dir=cache)
    free = Assistant(settings=local.replace(min_answer_logprob=-1e9)).ask(SEED_QUESTION)  # set: it wins
    assert free.kind == "phrase" and not free.answer_logprob_waived and free.answer_logprob < 0, free.reason
    strict = Assistant(settings=local).ask(SEED_QUESTION)
    assert strict.abstained and strict.reason == UNLIKELY and strict.answer_logprob == free.answer_logprob
