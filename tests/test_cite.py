"""A decision becomes an answer in one place: markers, quotation marks, exact cited sentences."""

from qa.answering.answer import ABSTAIN_TEXT
from qa.answering.cite import answer_for
from qa.answering.decide import NO_EVIDENCE, Decision
from qa.answering.question import classify
from tests.helpers import retrieval_of

TEXT = "Harbour pilot Tomas Reyes guided the tanker into Port Alden. The storm passed by noon."


def _answer(decision: Decision, raw: str | None = None):  # -> Answer
    r = retrieval_of(TEXT, title="Tanker reaches port")
    form = classify("Who guided the tanker into Port Alden?")
    return answer_for(form, r, decision, raw_output=raw, model="m.gguf" if raw else "", index="news",
                      settings_hash="abc")  # fmt: skip


def test_a_phrase_answer_carries_markers_and_the_exact_sentences_it_cites() -> None:
    decision = Decision("phrase", "Tomas Reyes", [0], score=1.5, logprob=-1.23456, support=0.6)
    answer = _answer(decision, " Reyes")
    assert answer.text == "Tomas Reyes [1]" and not answer.abstained and answer.kind == "phrase"
    (citation,) = answer.citations
    assert citation.sentence == "Harbour pilot Tomas Reyes guided the tanker into Port Alden."
    assert TEXT[citation.start : citation.end] == citation.sentence
    assert (citation.title, citation.source, citation.marker) == ("Tanker reaches port", "test.txt", 1)
    assert answer.answer_logprob == -1.2346 and answer.raw_output == " Reyes" and answer.model == "m.gguf"
    assert answer.question == "Who guided the tanker into Port Alden?" and answer.answer_type == "person"
    assert answer.searched == [TEXT.split(". ")[0] + ".", "The storm passed by noon."]


def test_a_quoted_sentence_is_in_quotation_marks() -> None:
    answer = _answer(Decision("sentence", "The storm passed by noon.", [1], support=0.4))
    assert answer.text == "“The storm passed by noon.” [1]" and answer.kind == "sentence"
    assert answer.citations[0].sentence == "The storm passed by noon."


def test_an_abstention_cites_nothing_and_says_why() -> None:
    answer = _answer(Decision("abstain", support=0.05, reason=NO_EVIDENCE))
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.citations == []
    assert answer.kind == "abstain" and answer.reason == NO_EVIDENCE and answer.support == 0.05
    assert "No sentence is about the question" in str(answer)
