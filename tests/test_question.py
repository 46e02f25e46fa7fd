"""Question forms -> answer types, on invented questions (no model needed)."""

import pytest

from qa.answering.question import AnswerType, classify
from qa.text.gazetteer import countries_named, country_of, place_kind

T = AnswerType


@pytest.mark.parametrize(
    ("question", "expected", "focus"),
    [
        ("Who founded the Lindqvist bakery chain?", T.PERSON, None),
        ("Whose painting sold at the Tallport auction?", T.PERSON, None),
        ("Which actor will play the lead in the new series?", T.PERSON, "actor"),
        ("Which state passed the water law on Monday?", T.PLACE, "state"),
        ("Which two states sold the winning tickets?", T.PLACE, "state"),
        ("In which European country did the storm make landfall?", T.PLACE, "country"),
        ("What is the capital of the province that voted?", T.PLACE, "capital"),
        ("Where did the Northwind flight land?", T.PLACE, None),
        ("Which company bought the Old Mill brewery?", T.ORGANIZATION, "company"),
        ("What is the name of the airline that cut 300 jobs?", T.ORGANIZATION, "airline"),
        ("Which team won the regional cup?", T.ORGANIZATION, "team"),
        ("How many homes lost power after Storm Ada?", T.COUNT, "homes"),
        ("How many years did the bridge repairs take?", T.QUANTITY, "years"),
        ("What percentage of voters backed the measure?", T.PERCENT, "percentage"),
        ("How much will the bridge repairs cost?", T.MONEY, None),
        ("How much did the painting sell for?", T.MONEY, None),
        ("How much rain fell in Port Elric?", T.QUANTITY, "much"),
        ("How old is the chess champion?", T.QUANTITY, "old"),
        ("When will the bridge reopen?", T.DATE, None),
        ("What year did the mill close?", T.DATE, "year"),
        ("Why did the council close the bridge?", T.EXPLANATION, None),
        ("How did the engineers repair the bridge?", T.EXPLANATION, None),
        ("What happened at the harbour on Tuesday?", T.EXPLANATION, None),
        ("Which animal escaped from the Tallport zoo?", T.THING, "animal"),
        # A compound's head is its last noun; a possessive ends the phrase asked about.
        ("Which college sport drew record crowds in Tallport?", T.THING, "sport"),
        ("Which district court judge blocked the Tallport ban?", T.PERSON, "judge"),
        ("Which country's parliament passed the water law?", T.PLACE, "country"),
        ("Which state supreme court upheld the Tallport ban?", T.ORGANIZATION, "court"),
        ("What is the company name on the Tallport sign?", T.ORGANIZATION, "company"),
        ("What food did the festival ban?", T.THING, "food"),
        ("What did the mayor say about the bridge?", T.ANY, None),
        ("What does the plan try to protect?", T.ANY, None),
        # "Who is <a name>?" asks what the name is; "Who is <the role>?" asks for a name.
        ("Who is Tomas Reyes?", T.DESCRIPTION, "Tomas Reyes"),
        ("What is the Lindqvist Institute?", T.DESCRIPTION, "Lindqvist Institute"),
        ("Who is the harbour pilot?", T.PERSON, None),
        ("Who's Tomas Reyes?", T.DESCRIPTION, "Tomas Reyes"),
        ("Who is the Prime Minister?", T.PERSON, None),  # a title, not a name
        ("Who is Tomas Reyes meeting?", T.PERSON, None),
        ("What is Brightway's biggest bakery?", T.ANY, None),
    ],
)
def test_answer_type_follows_the_question_form(
    question: str, expected: AnswerType, focus: str | None
) -> None:
    form = classify(question)
    assert form.answer_type is expected
    if focus is not None:
        assert form.focus in (focus, focus.rstrip("s"))


def test_the_model_is_asked_for_a_phrase_unless_grammar_answers() -> None:
    assert not classify("Why did the mill close?").wants_phrase
    assert not classify("Who is Tomas Reyes?").wants_phrase  # read off the sentences' grammar
    assert classify("Which mill closed?").wants_phrase


@pytest.mark.parametrize(
    ("word", "country"),
    [("Ukrainian", "Ukraine"), ("Chinese", "China"), ("Dutch", "Netherlands"), ("Filipinos", "Philippines")],
)
def test_demonyms_name_their_country(word: str, country: str) -> None:
    assert country_of(word) == country


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("The US and the U.K. signed the pact.", {"United States", "United Kingdom"}),
        ("American and Ukrainian engineers", {"United States", "Ukraine"}),
        ("North Koreans built the port.", {"North Korea"}),  # not "Korean" alone: South Korea
        ("Papua New Guinean divers", {"Papua New Guinea"}),
        ("Latin American leaders met in South America.", {"Latin America"}),  # not the US
        ("Can you tell us which port reopened?", set()),  # "us" the pronoun
        ("The ferry sailed on Monday.", set()),
    ],
)
def test_countries_named_by_demonym_or_short_name(text: str, countries: set[str]) -> None:
    assert countries_named(text) == countries


def test_a_region_is_named_but_is_no_country() -> None:
    assert countries_named("European leaders met.") == {"Europe"}
    assert place_kind("Europe") == "place" and place_kind("France") == place_kind("U.S.") == "country"


def test_words_that_are_no_demonym_name_no_country() -> None:
    assert country_of("bridge") is None and country_of("Monday") is None


def test_the_subject_of_a_copular_question_is_not_its_focus() -> None:
    assert classify("What is the city council expected to approve?").answer_type is T.ANY


@pytest.mark.parametrize(
    ("question", "verb", "role"),
    [
        ("Which company bought the bakery chain?", "buy", "subject"),
        ("What did the council ban on Monday?", "ban", "object"),
        ("What was banned by the council?", "ban", "object"),  # a passive subject is the object
        ("Who did the founder sell the bakery chain to?", "sell", "to"),  # a stranded preposition
        ("Who did the mayor meet with in Tallport?", "meet", "with"),
        ("What does the new plan try to protect?", "protect", "object"),
        ("Which team did she play for in 2020?", "play", "for"),  # stranded, then a phrase
        ("What did the city set up?", "set", "object"),  # a particle is no preposition
        ("What is set to replace the old stadium?", "replace", "subject"),  # the governed verb
    ],
)
def test_the_verb_argument_a_question_asks_for(question: str, verb: str, role: str) -> None:
    slot = classify(question).slot
    assert slot is not None and (slot.verb, slot.role) == (verb, role)


def test_the_anchor_is_the_verb_s_other_argument() -> None:
    assert classify("What does the new plan try to protect?").slot.anchor == "plan"
    assert classify("What was banned by the council?").slot.anchor == "council"
    assert classify("Which team did she play for?").slot.anchor is None  # a pronoun anchors nothing


def test_the_slot_keeps_the_question_s_negation() -> None:
    assert classify("Which country has not signed the treaty?").slot.negated
    assert not classify("Which country has signed the treaty?").slot.negated


def test_a_copular_question_asks_for_no_verb_argument() -> None:
    assert classify("Who is the mayor of Tallport?").slot is None


def test_how_many_asks_for_the_number_counting_the_verb_s_argument() -> None:
    slot = classify("How many ferries did Tallport Lines buy from the shipyard?").slot
    assert (slot.verb, slot.role, slot.anchor, slot.counted) == ("buy", "object", "lines", "ferry")
    died = classify("How many hikers died in the avalanche?").slot
    assert (died.verb, died.role, died.counted) == ("die", "subject", "hiker")
    assert classify("Which company bought the ferries?").slot.counted is None


def test_a_wh_phrase_before_do_support_is_not_the_subject() -> None:
    """The small parser often calls the fronted phrase of "Which N did S V?" a subject; English
    uses "do" there only when the wh-phrase is not the subject (or before "not")."""
    killed = classify("How many soldiers did the rebels kill?").slot
    assert (killed.verb, killed.role, killed.anchor, killed.counted) == ("kill", "object", "rebel", "soldier")
    closed = classify("Which bakery did the council close?").slot
    assert (closed.verb, closed.role, closed.anchor) == ("close", "object", "council")
    unsigned = classify("Which country did not sign the treaty?").slot
    assert (unsigned.role, unsigned.negated) == ("subject", True)


def test_only_a_how_many_question_asks_for_a_count() -> None:
    slot = classify("How much did Acme pay for how many ferries?").slot  # a money question
    assert slot is None or slot.counted is None
