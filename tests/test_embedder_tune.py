"""`qa tune --parts embedder` on invented weekly packs: examples mined by BM25, the packaged MiniLM
fine-tuned, written with its int8 ONNX file, and used by ingest and the assistant through `QA_TUNED`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from qa.config import Settings
from qa.errors import IndexUnavailable, ModelError
from qa.eval.run import ensure_index, load_pack
from qa.models.embedder import DEFAULT_EMBEDDER, Embedder, default_embedder_path
from qa.tune.embedder import EmbedderRecipe, embedder_examples
from qa.tune.run import run_tune
from tests.conftest import PEOPLE

RECIPE = EmbedderRecipe(epochs=1, batch=4, learning_rate=1e-4, checks_per_epoch=1)


@pytest.fixture(scope="module")
def tuned(
    weeks: Path, tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> tuple[Path, Settings, dict]:
    root = tmp_path_factory.mktemp("tuned-embedder")
    local = settings.replace(index_dir=root / "indexes")
    card = run_tune([weeks], root / "out", holdout=1, settings=local, cache=root / "cache",
                    parts=("embedder",), embedder_recipe=RECIPE)  # fmt: skip
    return root / "out", local, card


def test_examples_pair_a_question_with_the_sentences_that_answer_it(weeks: Path) -> None:
    examples = embedder_examples(load_pack(weeks / "20260101"))
    assert len(examples) == 4
    for e in examples:
        person = next(p for p in PEOPLE if p in e.positives[0])
        assert e.query.startswith("Who led the") and all(person in p for p in e.positives)
        # Hard negatives share the question's words and lack its answer.
        assert e.negatives and not any(person in n for n in e.negatives)
    # The best-ranked negative names the town and the thing asked about: what BM25 gets wrong.
    thing = examples[0].query.split("the ")[1].split(" project")[0]
    assert thing in examples[0].negatives[0]


def test_examples_from_a_week_with_many_matching_sentences(tmp_path: Path) -> None:
    """More sentences share the question's words than the negatives are drawn from."""
    folder = tmp_path / "20260200"
    folder.mkdir()
    articles = []
    for n in range(12):
        text = " ".join(f"The Tallport harbour council met for session {n}-{k} today." for k in range(5))
        if n == 7:
            text += " Dana Okafor chairs the Tallport harbour council."
        articles.append({"id": f"a{n}", "title": f"Harbour report {n}", "text": text})
    question = {"id": "q", "question": "Who chairs the Tallport harbour council?", "answers": ["Dana Okafor"],
                "answerable": True}  # fmt: skip
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    (folder / "questions.jsonl").write_text(json.dumps(question) + "\n")
    (example,) = embedder_examples(load_pack(folder))
    assert example.positives == ["Dana Okafor chairs the Tallport harbour council."]
    assert len(example.negatives) == 8 and all("Okafor" not in n for n in example.negatives)


def test_the_tuned_embedder_ranks_held_out_answers_better_and_ships_its_onnx_file(
    tuned: tuple[Path, Settings, dict],
) -> None:
    out, local, card = tuned
    part = card["parts"]["embedder"]
    # The base model ranks "The new bridge in Lundmere opened ..." above who led the project.
    assert part["holdout_mrr"]["learned"] > part["holdout_mrr"]["base"]
    assert part["kept"] and part["best_step"] > 0
    folder = out / "embedder"
    assert (folder / "model_int8.onnx").is_file() and (folder / "modules.json").is_file()
    name = json.loads((folder / "qa_embedder.json").read_text())["name"]
    assert name.startswith(f"{DEFAULT_EMBEDDER}-tuned-")
    assert "## Embedder" in (out / "card.md").read_text()
    embedder = Embedder.from_settings(local.replace(tuned=str(out)))
    assert embedder.name == name and embedder.runtime == "onnx-int8"
    # QA_EMBEDDER still wins over the tuned folder's embedder.
    chosen = Embedder.from_settings(local.replace(tuned=str(out), embedder=str(default_embedder_path())))
    assert chosen.name != name
    assert Embedder.from_settings(local).name == DEFAULT_EMBEDDER


def test_the_assistant_retrieves_with_the_tuned_embedder_and_refuses_an_index_of_another(
    weeks: Path, tuned: tuple[Path, Settings, dict], embedder: Embedder
) -> None:
    from qa.answering.assistant import Assistant

    out, local, _ = tuned
    with_tuned = local.replace(tuned=str(out))
    pack = load_pack(weeks / "20260103")
    index = ensure_index(pack, with_tuned, Embedder.from_settings(with_tuned))
    assistant = Assistant(settings=with_tuned.replace(index=index))
    question = "Who led the library project in Tallport?"
    stated = "Tomas Varga led the library project from the start."
    assert assistant.retrieve(question).evidence[0].text == stated
    # The model reads four sentences alike but for the person: it names the right one from the
    # sentence that states it, or withholds its answer (which name it writes varies by CPU).
    answer = assistant.ask(question)
    assert answer.abstained or ("Tomas Varga" in answer.text and answer.citations[0].sentence == stated)
    assert not any(person in answer.text for person in PEOPLE if person != "Tomas Varga")
    base_index = ensure_index(pack, local, embedder)
    assert base_index != index  # the eval's index names follow the embedder
    # The base model puts "The new library in Tallport opened after two years of work." first.
    assert Assistant(settings=local.replace(index=base_index)).retrieve(question).evidence[0].text != stated
    refused = r"built with embedder all-MiniLM-L6-v2 \(dim 384\), not all-MiniLM-L6-v2-tuned-.*QA_TUNED=off"
    with pytest.raises(IndexUnavailable, match=refused):
        Assistant(settings=with_tuned.replace(index=base_index))


def test_a_rerun_resumes_its_finished_run_and_another_seed_trains_again(
    weeks: Path, tuned: tuple[Path, Settings, dict]
) -> None:
    out, local, card = tuned
    again = run_tune([weeks], out, holdout=1, settings=local, cache=out.parent / "cache", parts=("embedder",),
                     embedder_recipe=RECIPE)  # fmt: skip
    assert again["parts"]["embedder"]["curve"] == card["parts"]["embedder"]["curve"]  # nothing retrained
    other = run_tune([weeks], out, holdout=1, settings=local, cache=out.parent / "cache", parts=("embedder",),
                     embedder_recipe=dataclasses.replace(RECIPE, seed=1))  # fmt: skip
    losses = [p["train_loss"] for p in other["parts"]["embedder"]["curve"][1:]]
    assert losses != [p["train_loss"] for p in card["parts"]["embedder"]["curve"][1:]]


def test_a_missing_tuned_folder_is_an_error_not_the_base_embedder(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such folder"):
        Embedder.from_settings(settings.replace(tuned=str(tmp_path / "typo")))
