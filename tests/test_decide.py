"""The decision on invented articles: answer, quote or abstain (real spaCy; the model is used
only where its likelihood of the answer decides whether it is given)."""

import pytest

from qa.answering.candidates import restates
from qa.answering.decide import NO_EVIDENCE, OFF_QUESTION, UNLIKELY, Decision, Policy, decide
from qa.answering.question import classify
from qa.config import MODEL_MIN_ANSWER_LOGPROB, Settings
from tests.helpers import retrieval_of


def test_a_why_question_is_answered_by_its_best_sentence() -> None:
    r = retrieval_of("The council closed the bridge because its cables had rusted. Repairs start in May.")
    decision = decide(classify("Why did the council close the bridge?"), r, None, None, Policy())
    assert decision.kind == "sentence" and decision.cited == [0]
    assert decision.text == r.sentences[0].text


def test_a_who_is_question_is_answered_by_a_description_or_the_sentence_naming_it() -> None:
    def answer(question: str, text: str) -> Decision:
        return decide(classify(question), retrieval_of(text), None, None, Policy())

    text = "Harbour pilot Tomas Reyes saw the storm first. Tomas Reyes declined to comment."
    described = answer("Who is Tomas Reyes?", text)
    assert described.kind == "phrase" and described.text == "Harbour pilot" and described.cited == [0]
    quoted = answer("Who is Tomas Reyes?", "Tomas Reyes declined to comment.")
    assert quoted.kind == "sentence" and quoted.text == "Tomas Reyes declined to comment."
    assert answer("Who is Ana Ruiz?", "Tomas Reyes declined to comment.").kind == "abstain"


def test_with_no_candidate_of_the_asked_kind_the_sentence_answers() -> None:
    r = retrieval_of("The festival will be held outdoors this year.")
    question = "What percentage of tickets sold out?"
    decision = decide(classify(question), r, None, None, Policy())
    assert decision.kind == "sentence" and decision.text == r.sentences[0].text


def test_evidence_off_the_question_means_abstention() -> None:
    r = retrieval_of("The festival will be held outdoors this year.", support=0.05)
    decision = decide(classify("Who won the chess title?"), r, None, None, Policy())
    assert decision.kind == "abstain" and decision.cited == []


def test_the_model_phrase_counts_for_the_candidate_it_matches() -> None:
    r = retrieval_of("Mira Solberg and her colleague Jon Berg opened the Lindqvist bridge.")
    question = "Who led the restoration?"
    decision = decide(classify(question), r, " Mira Solberg", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Mira Solberg"
    assert decision.candidates[0].generated


def test_an_alternative_the_question_offers_may_answer_it() -> None:
    r = retrieval_of("Chile won the copper vote on Monday, ahead of Peru.")
    question = "Which country won the copper vote, Chile or Peru?"
    decision = decide(classify(question), r, " Chile", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Chile"
    assert restates(classify(question), "copper vote") and not restates(classify(question), "Peru")


def test_the_model_phrase_that_restates_the_question_is_no_answer() -> None:
    r = retrieval_of("Chile is now Peru's largest copper buyer, a key source of revenue for Peru.")
    question = "Which country is Peru's largest copper buyer?"
    decision = decide(classify(question), r, " Peru", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Chile"
    assert all(c.text != "Peru" for c in decision.candidates)


def test_a_phrase_the_model_finds_unlikely_is_withheld(assistant) -> None:  # noqa: ANN001 - fixture
    """The real model judges the candidates; its likelihood of the chosen one decides whether
    the phrase is given (`min_answer_logprob`)."""
    from functools import partial

    r = retrieval_of("Harbor pilot Tomas Reyes guided the damaged tanker into Port Alden on Friday.")
    question = "Who guided the damaged tanker into Port Alden?"
    prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
    tokens = assistant.settings.max_answer_tokens
    raw = "".join(assistant.generator.stream(prompt, tokens, stop=["\n", "Question:"]))
    judge = partial(assistant.generator.score_continuations, prompt)
    answered = decide(classify(question), r, raw, judge, Policy())
    assert answered.kind == "phrase" and "Tomas Reyes" in answered.text
    assert answered.logprob is not None and Policy().min_answer_logprob <= answered.logprob < 0
    # The early stop leaves the winner's likelihood exact: the same as reading every candidate.
    read_all = decide(classify(question), r, raw, lambda t, _: judge(t, None), Policy())
    assert read_all.text == answered.text and read_all.logprob == answered.logprob
    strict = Policy.from_settings(Settings(min_answer_logprob=answered.logprob + 0.01))
    withheld = decide(classify(question), r, raw, judge, strict)
    assert withheld.kind == "abstain" and withheld.cited == []
    assert withheld.logprob == answered.logprob and "likely" in withheld.reason


def test_the_likelihood_threshold_is_the_setting_else_the_reader_s_else_the_model_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QA_MIN_ANSWER_LOGPROB", raising=False)
    assert Policy.from_settings(Settings()).min_answer_logprob == MODEL_MIN_ANSWER_LOGPROB
    assert Policy.from_settings(Settings(), calibrated=-2.25).min_answer_logprob == -2.25
    explicit = Settings(min_answer_logprob=-9.0)
    assert Policy.from_settings(explicit, calibrated=-2.25).min_answer_logprob == -9.0


def test_an_answer_reports_the_likelihood_it_was_given_on(assistant) -> None:  # noqa: ANN001 - fixture
    answer = assistant.ask("Who is the Chinese foreign ministry spokeswoman?")
    assert not answer.abstained and answer.kind == "phrase" and not answer.answer_logprob_waived
    assert MODEL_MIN_ANSWER_LOGPROB <= answer.answer_logprob < 0  # the packaged model's threshold


def test_a_phrase_its_sentence_states_in_the_asked_argument_is_not_withheld(assistant) -> None:  # noqa: ANN001
    """A question of no answer type is typed by the verb argument it asks for; the phrase a
    sentence states there is given even when the model doubts it (a threshold nothing passes),
    but not when the sentence negates the verb, and not for a question that has a type."""
    from functools import partial

    nothing_passes = Policy.from_settings(Settings(min_answer_logprob=0.0))

    def answer(question: str, text: str):  # -> Decision
        r = retrieval_of(text)
        prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
        judge = partial(assistant.generator.score_continuations, prompt)
        return decide(classify(question), r, None, judge, nothing_passes)

    question = "What does the harbour plan try to protect?"
    stated = answer(question, "The harbour plan aims to protect nesting seabirds along the Tallport coast.")
    assert stated.kind == "phrase" and "nesting seabirds" in stated.text and stated.cited == [0]
    denied = answer(question, "The harbour plan does not protect nesting seabirds along the Tallport coast.")
    assert denied.kind == "abstain"
    typed = answer(
        "Which company bought the bakery chain?", "Brightway Foods bought the bakery chain in May."
    )
    assert typed.kind == "abstain"
    # The count a "how many" question asks for, stated by its sentence, is given too.
    counted = answer("How many ferries did Tallport Lines buy?", "Tallport Lines bought six ferries in May.")
    assert counted.kind == "phrase" and counted.text == "six" and counted.cited == [0]
    uncounted = answer(
        "How many ferries did Tallport Lines buy?", "Norvik Shipping bought six ferries in May."
    )
    assert uncounted.kind == "abstain"


def test_one_gate_decides_whether_evidence_can_answer() -> None:
    policy = Policy(min_support=0.3, min_answer_logprob=-5.0)
    on = retrieval_of("Ana Ruiz opened the bridge.", support=0.4)
    off = retrieval_of("It rained.", support=0.1)
    assert policy.gate(on) is None and policy.gate(off) == NO_EVIDENCE
    assert policy.asks_model(classify("Who opened the bridge?"), on)
    assert not policy.asks_model(classify("Who opened the bridge?"), off)
    assert not policy.asks_model(classify("Why did Ana Ruiz open the bridge?"), on)  # a sentence answers
    assert policy.gate(off, cited=0) == OFF_QUESTION
    assert policy.gate(on, cited=0, logprob=-6.0) == UNLIKELY
    assert policy.gate(on, cited=0, logprob=-6.0, waived=True) is None
    assert policy.gate(on, cited=0, logprob=-4.0) is None
    # The decision goes through the same gate: below it, no answer and no citation.
    decision = decide(classify("Who opened the bridge?"), off, " Ana Ruiz", None, policy)
    assert decision.kind == "abstain" and decision.reason == NO_EVIDENCE and decision.cited == []
