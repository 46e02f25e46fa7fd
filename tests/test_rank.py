"""Scoring candidates: an entity's forms share their sentences; the model judges its likeliest form."""

from qa.answering.candidates import Candidate
from qa.answering.question import classify
from qa.answering.rank import Weights, rank
from tests.helpers import retrieval_of


def test_a_sentence_naming_an_entity_by_two_forms_counts_once() -> None:
    evidence = ["Finance Minister Mira Solberg opened the bridge.", "Mira Solberg spoke later."]
    candidates = [Candidate(name, 0, "PERSON") for name in ("Finance Minister Mira Solberg", "Mira Solberg")]
    (ranked,) = rank(candidates, classify("Who opened the bridge?"), evidence, Weights())
    assert ranked.text == "Finance Minister Mira Solberg"
    assert ranked.features["repeated"] == 1.0 + 1.0 / 2  # sentences 1 and 2, each once


def test_the_model_judges_an_entity_by_its_likeliest_form(assistant) -> None:  # noqa: ANN001 - fixture
    from functools import partial

    r = retrieval_of("Harbor pilot Tomas Reyes guided the damaged tanker into Port Alden on Friday.")
    question = "Who guided the damaged tanker into Port Alden?"
    prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
    judge = partial(assistant.generator.score_continuations, prompt)
    # Read the prompt once first: llama.cpp's logits depend a little on what its cache held
    # before (how the prompt was batched), and both calls below must start from the same state.
    judge(["Tomas Reyes"], None)
    candidate = Candidate("Harbor pilot Tomas Reyes", 0, "PERSON", forms=("Tomas Reyes",))
    evidence = [r.evidence[0].text]
    (ranked,) = rank([candidate], classify(question), evidence, Weights(), lambda t, _: judge(t, None))
    assert ranked.features["logprob"] == max(judge(["Harbor pilot Tomas Reyes", "Tomas Reyes"], None))


def test_a_candidate_beside_the_question_words_is_nearer_than_one_far_from_them() -> None:
    evidence = [
        "Engineer Mira Solberg led the restoration, officials in the northern port city of Tallport said."
    ]
    form = classify("Who led the restoration?")
    candidates = [Candidate("Mira Solberg", 0, "PERSON"), Candidate("Tallport", 0, "GPE")]
    ranked = rank(candidates, form, evidence, Weights())
    near = {c.text: c.features["near_question"] for c in ranked}
    assert near["Mira Solberg"] == 1.0 and 0 < near["Tallport"] < 0.5
    # Unused by the hand-set weights: the ranking is the features the hand set before.
    assert Weights().near_question == 0.0 and Weights().evidence_rank == 0.0
