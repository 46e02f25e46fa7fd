"""Candidates on invented articles (real spaCy): which phrases may answer a question, of which
kind, and which a sentence states in the verb argument the question asks for."""

from qa.answering.candidates import NOUN_PHRASE, compatibility, descriptions, extract
from qa.answering.question import classify
from qa.answering.retrieve import Retrieval
from qa.text.nlp import negated, objects, parse, subjects
from qa.text.sentences import split_sentences
from tests.helpers import retrieval_of, texts_of


def _phrases(question: str, text: str) -> list[str]:
    """The candidates of `text`, a sentence or a few, for `question`."""
    return [c.text for c in extract(texts_of(retrieval_of(text)), classify(question))]


def _typed(question: str, retrieval: Retrieval) -> list[str]:
    form = classify(question)
    return [c.text for c in extract(texts_of(retrieval), form) if compatibility(form, c.label, c.text)]


def test_candidates_are_exact_spans_with_entity_kinds() -> None:
    r = retrieval_of("Engineer Mira Solberg led the restoration team in Tallport, Norway, on Monday.")
    found = {c.text: c.label for c in extract(texts_of(r), classify("Who led the team?"))}
    assert found.get("Engineer Mira Solberg") == "PERSON"  # with the title the article gives
    assert all(text in r.evidence[0].text for text in found)


def test_a_place_question_is_not_answered_by_a_person_or_a_date() -> None:
    r = retrieval_of("Governor Ana Ruiz signed the water law in Nevada on March 3, 2026.")
    typed = _typed("Which state passed the water law?", r)
    assert "Nevada" in typed
    assert "Ana Ruiz" not in typed and not any("2026" in t for t in typed)


def test_a_count_question_is_not_answered_by_a_year() -> None:
    r = retrieval_of("In 2026, about 12,000 homes lost power when Storm Ada hit Port Elric.")
    typed = _typed("How many homes lost power?", r)
    assert any("12,000" in t for t in typed) and "2026" not in typed


def test_a_percentage_question_wants_a_percentage() -> None:
    r = retrieval_of("The measure won 62% of the vote among 4,000 voters in Tallport.")
    assert _typed("What percentage of voters backed the measure?", r) == ["62%"]


def test_a_demonym_answers_a_country_question_with_the_country() -> None:
    r = retrieval_of("The Ukrainian president met the delegation in the capital on Friday.")
    assert "Ukraine" in _typed("Which country's president met the delegation?", r)


def test_pairs_of_names_are_candidates_as_well_as_each_name() -> None:
    texts = _phrases(
        "Which two states had the winning bakeries?",
        "Two bakeries in Nevada and Oregon shared the pastry award.",
    )
    assert {"Nevada and Oregon", "Nevada", "Oregon"} <= set(texts)


def test_question_words_are_not_candidates() -> None:
    r = retrieval_of("Oregon officials agreed with the ruling of Judge Ana Ruiz.")
    question = classify("Which judge's ruling did Oregon officials accept?")
    texts = [c.text for c in extract(texts_of(r), question)]
    assert "Oregon" not in texts and any("Ana Ruiz" in t for t in texts)


def test_a_country_the_question_names_by_abbreviation_or_demonym_is_no_candidate() -> None:
    r = retrieval_of(
        "The cargo ship sailed from the Dominican Republic to the United States, officials said."
    )
    question = "The US coast guard stopped the ship after it left which country?"
    assert _typed(question, r) == ["Dominican Republic"]
    # The same with the demonym of a country of two words.
    assert "United States" not in _typed("Which country did the American ship leave?", r)


def test_a_name_made_of_a_named_country_s_words_stays_a_candidate() -> None:
    texts = _phrases(
        "Which US airline cut flights?",
        "United cut its flights from the United States to Canada on Monday.",
    )
    assert "United" in texts and "United States" not in texts


def test_noun_phrases_answer_what_questions() -> None:
    r = retrieval_of("The plan attempts to protect civilian populations during the war.")
    found = {c.text: c.label for c in extract(texts_of(r), classify("What does the plan try to protect?"))}
    assert found.get("civilian populations") == NOUN_PHRASE


def test_a_name_is_described_by_what_its_sentence_says_it_is() -> None:
    sentences = [
        "The port spokeswoman, Ana Ruiz, said the ferry was late.",
        "The mayor of Tallport, Ana Ruiz, praised the crews.",
        "Engineers rebuilt Lindqvist Bridge, the oldest crossing in Tallport.",
        "Harbour pilot Tomas Reyes saw the storm first.",
        "Brightway is a bakery chain based in Aldmouth.",
        "Mr. Tomas Reyes declined to comment.",
        "The Tomas Reyes case was closed.",
    ]
    found = descriptions(sentences, "Ana Ruiz") + descriptions(sentences, "Tomas Reyes")
    assert found[0] == ["The port spokeswoman"] and found[1] == ["The mayor of Tallport"]
    assert descriptions(sentences, "Lindqvist Bridge")[2] == ["the oldest crossing in Tallport"]
    assert found[7 + 3] == ["Harbour pilot"]
    assert descriptions(sentences, "Brightway")[4] == ["a bakery chain based in Aldmouth"]
    assert found[7 + 5] == [] and found[7 + 6] == []  # an honorific alone; the name modifies "case"
    # No description: a list of names, a negated or a reported "is"; the rest of a name.
    others = [
        "Tomas Reyes, Ana Ruiz and Mira Solberg signed the letter.",
        "Ana Ruiz is not a candidate for mayor.",
        '"Ana Ruiz is a liar," Tomas Reyes said.',
        "Ana Ruiz said the ferry was late.",
    ]
    assert descriptions(others, "Ana Ruiz") == [[], [], [], []]
    assert descriptions(others, "Ruiz") == [[], [], [], []]
    assert descriptions(["Mayor Ana Ruiz opened the bridge."], "Ruiz") == [["Mayor"]]
    # The name as the article spells it, accents and hyphens included.
    assert descriptions(["Inés Ruiz-Lind, the harbour master, spoke first."], "Inés Ruiz-Lind") == [
        ["the harbour master"]
    ]


def test_a_state_question_prefers_a_state_to_a_city() -> None:
    form = classify("Which state passed the water law?")
    assert compatibility(form, "GPE", "Nevada") == 1.0
    assert compatibility(form, "GPE", "Reno") == 0.5
    assert compatibility(classify("Which country hosted the talks?"), "GPE", "Norway") == 1.0


def test_a_person_keeps_the_title_news_gives_them() -> None:
    texts = _phrases(
        "Who delivered the eulogy?",
        "The eulogy was delivered by former Mayor Mira Solberg of Tallport on Monday.",
    )
    assert "Mayor Mira Solberg" in texts


def test_a_person_is_judged_also_without_their_title() -> None:
    r = retrieval_of("Finance Minister Mira Solberg opened the Lindqvist bridge on Monday.")
    found = {c.text: c for c in extract(texts_of(r), classify("Who opened the bridge?"))}
    assert found["Finance Minister Mira Solberg"].forms == ("Mira Solberg",)
    assert "Mira Solberg" not in found  # one candidate, not two


def test_a_hedged_amount_is_judged_also_without_its_hedge() -> None:
    r = retrieval_of("The museum will cost nearly $200 million, and more than 4,000 residents signed.")
    found = {c.text: c.forms for c in extract(texts_of(r), classify("How much will the museum cost?"))}
    assert found["nearly $200 million"] == ("$200 million",) and found["more than 4,000"] == ("4,000",)


def test_amount_questions_are_answered_with_numbers() -> None:
    form = classify("How old is the chess champion?")
    assert compatibility(form, "DATE", "first day") is None
    assert compatibility(form, "DATE", "ten years") == 1.0


def _slots(question: str, text: str) -> dict[str, bool]:
    r = retrieval_of(text)
    return {c.text: c.fills_slot for c in extract(texts_of(r), classify(question))}


def test_the_phrase_that_fills_the_asked_verb_argument_is_marked() -> None:
    text = "Brightway Foods bought the Tallport bakery chain from Mira Solberg on Monday."
    slots = _slots("Which company bought the bakery chain?", text)
    assert slots["Brightway Foods"]
    assert not slots["Mira Solberg"] and not slots["Monday"]
    assert not _slots("Who sold the bakery chain?", text)["Brightway Foods"]  # a different verb
    sold = "The founder sold the bakery chain to Brightway Foods in May."
    assert _slots("Who did the founder sell the bakery chain to?", sold)["Brightway Foods"]


def test_a_how_many_question_is_filled_by_the_number_counting_its_noun() -> None:
    question = "How many ferries did Tallport Lines buy?"
    assert _slots(question, "Tallport Lines bought six ferries from the Aldmouth shipyard.")["six"]
    assert _slots(question, "Tallport Lines bought dozens of ferries last year.")["dozens"]
    # A number of something else, or of the same noun by another buyer, is no count asked for.
    other = _slots(question, "Tallport Lines bought hundreds of engines and two ferries in May.")
    assert not other["hundreds"] and other["two"]
    assert not _slots(question, "Norvik Shipping bought six ferries in May.")["six"]
    # A pronoun doer or a relative clause about another buyer is no answer either.
    assert not _slots(question, "Norvik Shipping said it bought six ferries in May.")["six"]
    assert not _slots(question, "Norvik Shipping, which bought six ferries in May, is based in Aldmouth.")[
        "six"
    ]
    # A bare number may count anything.
    assert not _slots("How many jobs will Acme cut?", "Acme will cut 300 million from its budget.")[
        "300 million"
    ]
    killed = "How many soldiers did the rebels kill?"
    assert _slots(killed, "The rebels killed four soldiers in the raid.")["four"]
    assert not _slots(killed, "Four soldiers killed 30 rebels in the raid.")["Four"]


def test_a_pronoun_in_the_other_argument_does_not_rule_the_sentence_out() -> None:
    question = "Which regulator has not approved the merger?"
    text = (
        "Brightway expects the merger to close in May, but the Norland Competition Board has not approved it."
    )
    assert _slots(question, text)["Norland Competition Board"]
    other = "The Norland Competition Board has not approved the harbour expansion."
    assert not _slots(question, other)["Norland Competition Board"]  # a named other thing still does
    # Only an object that refers back: "something" names another thing, a doer is no object.
    bought = "Which company bought the bakery chain?"
    assert not _slots(bought, "Brightway Foods bought something else instead.")["Brightway Foods"]
    relative = _slots(
        "Who bought the bakery chain?", "The bakery chain, which Brightway Foods bought in May, has 40 shops."
    )
    assert relative["Brightway Foods"]  # "which" stands for the chain


def test_a_verb_coordinated_with_another_shares_its_doer() -> None:
    text = "The two mayors will discuss transport, strengthen mutual trust and expand cultural exchange."
    assert _slots("What will the two mayors strengthen?", text)["mutual trust"]
    assert _slots("What will the two mayors expand?", text)["cultural exchange"]
    assert not _slots("What will the two governors strengthen?", text)["mutual trust"]
    reported = "The minister said the two mayors will discuss transport and strengthen mutual trust."
    assert _slots("What will the two mayors strengthen?", reported)["mutual trust"]
    # A verb the parser only attaches as a conjunct, with no conjunction before it, has its own doer.
    for sentence, verb, wrong in [
        (
            "The chicks have landed as the eagle couple, Ana and Bo, have welcomed two hatchlings.",
            "welcomed",
            "chicks",
        ),
        (
            "The chicks have landed and settled as the couple, Ana and Bo, have welcomed two hatchlings.",
            "welcomed",
            "chicks",
        ),
        # Nor a passive's agent, nor the subject of a reported clause the parser joined it to.
        ("The driver was arrested by police and now faces three charges.", "faces", "police"),
        (
            "The prosecutor said Reyes had lied to investigators and asked for a longer sentence.",
            "asked",
            "Reyes",
        ),
    ]:
        (doc,) = parse([sentence])
        assert wrong not in [t.text for t in subjects(next(t for t in doc if t.text == verb))]


def test_a_verb_sharing_a_negated_verb_s_doer_is_negated_unless_after_but() -> None:
    denied = "The ministry did not confirm or deny the report."
    assert not _slots("What did the ministry deny?", denied)["report"]
    assert _slots("What did the ministry not deny?", denied)["report"]
    assert not _slots("What did the company deny?", "The company neither confirmed nor denied the report.")[
        "report"
    ]
    assert not _slots("What did the leaders expand?", "The leaders did not agree to meet and expand trade.")[
        "trade"
    ]
    assert _slots("What did Acme sell?", "Acme did not buy the chain but sold its stake.")["stake"]
    # A verb of its own tense or with its own auxiliary is not under the negation.
    for sentence, verb in [
        ("Police did not name the suspect and said he was 34.", "said"),
        ("Acme did not comment and declined to give details.", "give"),
        ("Acme did not buy the chain and will sell its stake.", "sell"),
        ("Acme does not sell bread and makes cakes.", "makes"),
    ]:
        (doc,) = parse([sentence])
        assert not negated(next(t for t in doc if t.text == verb)), sentence


def test_he_or_she_continues_the_one_person_the_clause_before_is_about() -> None:
    text = "Harbour pilot Tomas Reyes said the ferry was late, but he did not mention the storm."
    assert _slots("What did Tomas Reyes not mention?", text)["storm"]
    assert _slots("Who did not mention the storm?", text)["Harbour pilot Tomas Reyes"]
    named = "The port spokeswoman, Ana Ruiz, praised the crews, but she refused to name the contractor."
    assert _slots("What did Ana Ruiz refuse to name?", named)["contractor"]  # named by an appositive
    assert not _slots("What did Mira Solberg refuse to name?", named)["contractor"]
    arrested = "Tomas Reyes was arrested by police on Monday, but he denied the charges."
    assert _slots("What did Tomas Reyes deny?", arrested)["charges"]
    # Not a firm, a body, a group, and not when the clause is about two people.
    for question, sentence in [
        (
            "What did Brightway Foods not name?",
            "Brightway Foods praised the crews, but she did not name the contractor.",
        ),
        ("What did police deny?", arrested),
        ("What did officials deny?", "Officials questioned Tomas Reyes, but he denied the allegations."),
        ("What will the court appeal?", "The court convicted the officer, and he will appeal the verdict."),
        (
            "What did the minister not discuss?",
            "The minister met the ambassador, but he did not discuss the treaty.",
        ),
        (
            "Who did not name the contractor?",
            "Reyes's wife praised the crews, but he did not name the contractor.",
        ),
    ]:
        assert not any(_slots(question, sentence).values()), question


def test_a_negated_verb_or_another_doer_states_no_answer() -> None:
    question = "What did Brightway Foods buy?"
    assert _slots(question, "Brightway Foods bought the Tallport bakery chain.")["Tallport bakery chain"]
    assert not _slots(question, "Rival Kestrel Mills bought the Tallport bakery chain.")[
        "Tallport bakery chain"
    ]
    assert not _slots(question, "Brightway Foods did not buy the Tallport bakery chain.")[
        "Tallport bakery chain"
    ]


def test_the_answer_s_verb_is_negated_as_the_question_s() -> None:
    text = "Norland signed the fishing treaty in May. Estova has not signed the fishing treaty."
    negative = _slots("Which country has not signed the fishing treaty?", text)
    assert negative["Estova"] and not negative["Norland"]
    positive = _slots("Which country has signed the fishing treaty?", text)
    assert positive["Norland"] and not positive["Estova"]


def test_the_anchor_may_be_a_noun_compounded_in_the_sentence_s_argument() -> None:
    text = "The Dockworkers Union opposes the mayor's repair plan."
    found = _slots("Which union opposes the repairs?", text)
    assert found["Dockworkers Union"]


def test_a_negation_on_the_verb_it_completes_counts() -> None:
    question = "What does the plan not try to protect?"
    assert _slots(question, "The plan does not try to protect farmland.")["farmland"]
    assert not _slots(question, "The plan tries to protect forests.")["forests"]
    assert not _slots("What does the plan try to protect?", "The plan does not try to protect farmland.")[
        "farmland"
    ]


def test_the_subject_of_a_passive_is_the_doer_of_the_verb_it_governs() -> None:
    question = "What did the mayor's plan aim to protect?"
    stated = _slots(question, "The mayor's plan was meant to protect the Tallport wetlands.")
    assert stated["Tallport wetlands"]
    other = _slots(question, "The harbour board was asked to protect the Tallport dunes.")
    assert not other["Tallport dunes"]
    # A governed passive: what was scheduled to be repaired is repaired, it repairs nothing.
    (doc,) = parse(["The Old Mill bridge was scheduled to be repaired in May."])
    repaired = next(t for t in doc if t.lower_ == "repaired")
    assert subjects(repaired) == [] and [t.text for t in objects(repaired)] == ["bridge"]


def test_a_named_partner_after_with_is_the_object_of_a_verb_without_one() -> None:
    text = "Mayor Ana Ruiz will travel to Tallport next week to meet with Governor Jon Berg."
    slots = _slots("Who will Ana Ruiz meet in Tallport?", text)
    assert slots["Governor Jon Berg"] and not slots["Mayor Ana Ruiz"]
    assert not any(_slots("What did Ana Ruiz sign?", "Ana Ruiz signed with a flourish on Monday.").values())


def test_a_possessor_or_a_name_before_the_argument_is_not_the_anchor() -> None:
    question = "Which company bought Acme?"
    assert _slots(question, "Delta Freight bought Acme.")["Delta Freight"]
    assert not _slots(question, "Beta Foods bought Acme's stake in Gamma.")["Beta Foods"]
    assert not _slots(question, "Delta Freight bought Acme shares.")["Delta Freight"]


def test_an_appositive_is_read_and_a_misread_one_before_a_verb_is_not() -> None:
    found = _slots(
        "Which island did Norland seize in 1990?",
        "Estova still claims Kell, the northern island that Norland seized in 1990.",
    )
    assert found["Kell"] and not found["Estova"]
    misread = _slots("What did Norland invade?", "Norland invaded Estova, the foreign minister of Kell said.")
    assert misread["Estova"] and not misread["foreign minister"]


def test_a_relative_that_the_tagger_calls_a_conjunction_is_read(seed_text: str) -> None:
    """The seed's own sentence: the small tagger reads its "that" as a conjunction."""
    sentence = next(
        seed_text[a:b] for a, b in split_sentences(seed_text) if "forcibly seized" in seed_text[a:b]
    )
    assert _slots("Which peninsula did Russia seize in 2014?", sentence)["Crimea"]


def test_the_argument_is_read_through_the_passive_and_a_relative_clause() -> None:
    question = "Which company bought the bakery chain?"
    passive = _slots(question, "The bakery chain was bought by Brightway Foods.")
    assert passive["Brightway Foods"]
    relative = _slots(
        question,
        "Regulators questioned Brightway Foods, which bought the bakery chain in May.",
    )
    assert relative["Brightway Foods"]
    obj = _slots("What did the council ban?", "In March the Tallport council banned glass bottles.")
    assert obj["glass bottles"] and not obj["March"] and not obj["Tallport"]


def test_a_later_sentence_where_the_phrase_fills_the_slot_is_the_one_cited() -> None:
    r = retrieval_of("Brightway Foods opened a store in Tallport. Brightway Foods bought the bakery chain.")
    question = "Which company bought the bakery chain?"
    found = {c.text: c for c in extract(texts_of(r), classify(question))}["Brightway Foods"]
    assert found.fills_slot and found.sentence == 1


def test_a_negating_determiner_and_a_closed_quotation_stay_in_the_phrase() -> None:
    texts = _phrases(
        "What did the leagues announce?",
        "The two leagues announced a “no limits” partnership on Monday.",
    )
    assert "“no limits” partnership" in texts and "limits” partnership" not in texts


def test_a_quotation_is_a_phrase_without_the_punctuation_inside_its_closing_mark() -> None:
    texts = _phrases(
        "What did the visit aim to promote?",
        "The mayor said the visit was meant to promote “harmony,” not trade.",
    )
    assert "harmony" in texts and "harmony," not in texts
