"""Candidates, typing and the decision on invented articles (real spaCy; these tests check which
candidates may answer, not which one the model prefers, so the model is used only where its
likelihood of the answer decides whether it is given)."""

from qa.answering.candidates import NOUN_PHRASE, Candidate, compatibility, descriptions, extract, restates
from qa.answering.cite import ground
from qa.answering.decide import Decision, Policy, Weights, decide, rank
from qa.answering.question import classify
from qa.answering.retrieve import Evidence, Retrieval
from qa.records import Article
from qa.text.nlp import negated, objects, parse, subjects
from qa.text.sentences import split_sentences


def _retrieval(text: str, title: str = "Regional news", support: float = 0.5) -> Retrieval:
    article = Article(title=title, text=text, source="test.txt")
    article.sentences = split_sentences(text)
    sentences = [Evidence(article, i, 1.0 - i / 10, support, 0) for i in range(len(article.sentences))]
    return Retrieval("q", [], sentences, n_evidence=len(sentences))


def _texts(retrieval: Retrieval) -> dict[int, str]:
    return {i: e.text for i, e in enumerate(retrieval.evidence)}


def _typed(question: str, retrieval: Retrieval) -> list[str]:
    form = classify(question)
    return [c.text for c in extract(_texts(retrieval), question) if compatibility(form, c.label, c.text)]


def test_candidates_are_exact_spans_with_entity_kinds() -> None:
    r = _retrieval("Engineer Mira Solberg led the restoration team in Tallport, Norway, on Monday.")
    found = {c.text: c.label for c in extract(_texts(r), "Who led the team?")}
    assert found.get("Engineer Mira Solberg") == "PERSON"  # with the title the article gives
    assert all(text in r.evidence[0].text for text in found)


def test_a_place_question_is_not_answered_by_a_person_or_a_date() -> None:
    r = _retrieval("Governor Ana Ruiz signed the water law in Nevada on March 3, 2026.")
    typed = _typed("Which state passed the water law?", r)
    assert "Nevada" in typed
    assert "Ana Ruiz" not in typed and not any("2026" in t for t in typed)


def test_a_count_question_is_not_answered_by_a_year() -> None:
    r = _retrieval("In 2026, about 12,000 homes lost power when Storm Ada hit Port Elric.")
    typed = _typed("How many homes lost power?", r)
    assert any("12,000" in t for t in typed) and "2026" not in typed


def test_a_percentage_question_wants_a_percentage() -> None:
    r = _retrieval("The measure won 62% of the vote among 4,000 voters in Tallport.")
    assert _typed("What percentage of voters backed the measure?", r) == ["62%"]


def test_a_demonym_answers_a_country_question_with_the_country() -> None:
    r = _retrieval("The Ukrainian president met the delegation in the capital on Friday.")
    assert "Ukraine" in _typed("Which country's president met the delegation?", r)


def test_pairs_of_names_are_candidates_as_well_as_each_name() -> None:
    r = _retrieval("Two bakeries in Nevada and Oregon shared the pastry award.")
    texts = [c.text for c in extract(_texts(r), "Which two states had the winning bakeries?")]
    assert {"Nevada and Oregon", "Nevada", "Oregon"} <= set(texts)


def test_question_words_are_not_candidates() -> None:
    r = _retrieval("Oregon officials agreed with the ruling of Judge Ana Ruiz.")
    texts = [c.text for c in extract(_texts(r), "Which judge's ruling did Oregon officials accept?")]
    assert "Oregon" not in texts and any("Ana Ruiz" in t for t in texts)


def test_a_country_the_question_names_by_abbreviation_or_demonym_is_no_candidate() -> None:
    r = _retrieval("The cargo ship sailed from the Dominican Republic to the United States, officials said.")
    question = "The US coast guard stopped the ship after it left which country?"
    assert _typed(question, r) == ["Dominican Republic"]
    # The same with the demonym of a country of two words.
    assert "United States" not in _typed("Which country did the American ship leave?", r)


def test_a_name_made_of_a_named_country_s_words_stays_a_candidate() -> None:
    r = _retrieval("United cut its flights from the United States to Canada on Monday.")
    texts = [c.text for c in extract(_texts(r), "Which US airline cut flights?")]
    assert "United" in texts and "United States" not in texts


def test_noun_phrases_answer_what_questions() -> None:
    r = _retrieval("The plan attempts to protect civilian populations during the war.")
    found = {c.text: c.label for c in extract(_texts(r), "What does the plan try to protect?")}
    assert found.get("civilian populations") == NOUN_PHRASE


def test_a_why_question_is_answered_by_its_best_sentence() -> None:
    r = _retrieval("The council closed the bridge because its cables had rusted. Repairs start in May.")
    decision = decide(classify("Why did the council close the bridge?"), "Why?", r, None, None, Policy())
    assert decision.kind == "sentence" and decision.cited == [0]
    assert decision.text == r.sentences[0].text


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


def test_a_who_is_question_is_answered_by_a_description_or_the_sentence_naming_it() -> None:
    def answer(question: str, text: str) -> Decision:
        return decide(classify(question), question, _retrieval(text), None, None, Policy())

    text = "Harbour pilot Tomas Reyes saw the storm first. Tomas Reyes declined to comment."
    described = answer("Who is Tomas Reyes?", text)
    assert described.kind == "phrase" and described.text == "Harbour pilot" and described.cited == [0]
    quoted = answer("Who is Tomas Reyes?", "Tomas Reyes declined to comment.")
    assert quoted.kind == "sentence" and quoted.text == "Tomas Reyes declined to comment."
    assert answer("Who is Ana Ruiz?", "Tomas Reyes declined to comment.").kind == "abstain"


def test_with_no_candidate_of_the_asked_kind_the_sentence_answers() -> None:
    r = _retrieval("The festival will be held outdoors this year.")
    question = "What percentage of tickets sold out?"
    decision = decide(classify(question), question, r, None, None, Policy())
    assert decision.kind == "sentence" and decision.text == r.sentences[0].text


def test_evidence_off_the_question_means_abstention() -> None:
    r = _retrieval("The festival will be held outdoors this year.", support=0.05)
    decision = decide(
        classify("Who won the chess title?"), "Who won the chess title?", r, None, None, Policy()
    )
    assert decision.kind == "abstain" and decision.cited == []


def test_the_model_phrase_counts_for_the_candidate_it_matches() -> None:
    r = _retrieval("Mira Solberg and her colleague Jon Berg opened the Lindqvist bridge.")
    question = "Who led the restoration?"
    decision = decide(classify(question), question, r, " Mira Solberg", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Mira Solberg"
    assert decision.candidates[0].generated


def test_an_alternative_the_question_offers_may_answer_it() -> None:
    r = _retrieval("Chile won the copper vote on Monday, ahead of Peru.")
    question = "Which country won the copper vote, Chile or Peru?"
    decision = decide(classify(question), question, r, " Chile", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Chile"
    assert restates(question, "copper vote") and not restates(question, "Peru")


def test_the_model_phrase_that_restates_the_question_is_no_answer() -> None:
    r = _retrieval("Chile is now Peru's largest copper buyer, a key source of revenue for Peru.")
    question = "Which country is Peru's largest copper buyer?"
    decision = decide(classify(question), question, r, " Peru", None, Policy())
    assert decision.kind == "phrase" and decision.text == "Chile"
    assert all(c.text != "Peru" for c in decision.candidates)


def test_a_leading_article_the_sentence_lacks_still_grounds_the_phrase() -> None:
    r = _retrieval("The tournament will be co-hosted by United States, Canada and Mexico.")
    grounded = ground("- The United States", r.sentences)
    assert grounded is not None and grounded.phrase == "United States" and grounded.supporting == [0]
    assert ground("- The Netherlands", r.sentences) is None


def test_a_state_question_prefers_a_state_to_a_city() -> None:
    form = classify("Which state passed the water law?")
    assert compatibility(form, "GPE", "Nevada") == 1.0
    assert compatibility(form, "GPE", "Reno") == 0.5
    assert compatibility(classify("Which country hosted the talks?"), "GPE", "Norway") == 1.0


def test_a_person_keeps_the_title_news_gives_them() -> None:
    r = _retrieval("The eulogy was delivered by former Mayor Mira Solberg of Tallport on Monday.")
    texts = [c.text for c in extract(_texts(r), "Who delivered the eulogy?")]
    assert "Mayor Mira Solberg" in texts


def test_a_person_is_judged_also_without_their_title() -> None:
    r = _retrieval("Finance Minister Mira Solberg opened the Lindqvist bridge on Monday.")
    found = {c.text: c for c in extract(_texts(r), "Who opened the bridge?")}
    assert found["Finance Minister Mira Solberg"].forms == ("Mira Solberg",)
    assert "Mira Solberg" not in found  # one candidate, not two


def test_a_hedged_amount_is_judged_also_without_its_hedge() -> None:
    r = _retrieval("The museum will cost nearly $200 million, and more than 4,000 residents signed.")
    found = {c.text: c.forms for c in extract(_texts(r), "How much will the museum cost?")}
    assert found["nearly $200 million"] == ("$200 million",) and found["more than 4,000"] == ("4,000",)


def test_a_sentence_naming_an_entity_by_two_forms_counts_once() -> None:
    evidence = ["Finance Minister Mira Solberg opened the bridge.", "Mira Solberg spoke later."]
    candidates = [Candidate(name, 0, "PERSON") for name in ("Finance Minister Mira Solberg", "Mira Solberg")]
    (ranked,) = rank(candidates, "Who opened the bridge?", evidence, Weights())
    assert ranked.text == "Finance Minister Mira Solberg"
    assert ranked.features["repeated"] == 1.0 + 1.0 / 2  # sentences 1 and 2, each once


def test_amount_questions_are_answered_with_numbers() -> None:
    form = classify("How old is the chess champion?")
    assert compatibility(form, "DATE", "first day") is None
    assert compatibility(form, "DATE", "ten years") == 1.0


def test_a_phrase_the_model_finds_unlikely_is_withheld(assistant) -> None:  # noqa: ANN001 - fixture
    """The real model judges the candidates; its likelihood of the chosen one decides whether
    the phrase is given (`min_answer_logprob`)."""
    from functools import partial

    from qa.config import Settings

    r = _retrieval("Harbor pilot Tomas Reyes guided the damaged tanker into Port Alden on Friday.")
    question = "Who guided the damaged tanker into Port Alden?"
    prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
    tokens = assistant.settings.max_answer_tokens
    raw = "".join(assistant.generator.stream(prompt, tokens, stop=["\n", "Question:"]))
    judge = partial(assistant.generator.score_continuations, prompt)
    answered = decide(classify(question), question, r, raw, judge, Policy())
    assert answered.kind == "phrase" and "Tomas Reyes" in answered.text
    assert answered.logprob is not None and Policy().min_answer_logprob <= answered.logprob < 0
    # The early stop leaves the winner's likelihood exact: the same as reading every candidate.
    read_all = decide(classify(question), question, r, raw, lambda t, _: judge(t, None), Policy())
    assert read_all.text == answered.text and read_all.logprob == answered.logprob
    strict = Policy.from_settings(Settings(min_answer_logprob=answered.logprob + 0.01))
    withheld = decide(classify(question), question, r, raw, judge, strict)
    assert withheld.kind == "abstain" and withheld.cited == []
    assert withheld.logprob == answered.logprob and "likely" in withheld.reason


def test_the_model_judges_an_entity_by_its_likeliest_form(assistant) -> None:  # noqa: ANN001 - fixture
    from functools import partial

    r = _retrieval("Harbor pilot Tomas Reyes guided the damaged tanker into Port Alden on Friday.")
    question = "Who guided the damaged tanker into Port Alden?"
    prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
    judge = partial(assistant.generator.score_continuations, prompt)
    candidate = Candidate("Harbor pilot Tomas Reyes", 0, "PERSON", forms=("Tomas Reyes",))
    (ranked,) = rank([candidate], question, [r.evidence[0].text], Weights(), lambda t, _: judge(t, None))
    assert ranked.features["logprob"] == max(judge(["Harbor pilot Tomas Reyes", "Tomas Reyes"], None))


def test_an_answer_reports_the_likelihood_it_was_given_on(assistant) -> None:  # noqa: ANN001 - fixture
    answer = assistant.ask("Who is the Chinese foreign ministry spokeswoman?")
    assert not answer.abstained and answer.kind == "phrase"
    assert assistant.settings.min_answer_logprob <= answer.answer_logprob < 0


def test_a_phrase_its_sentence_states_in_the_asked_argument_is_not_withheld(assistant) -> None:  # noqa: ANN001
    """A question of no answer type is typed by the verb argument it asks for; the phrase a
    sentence states there is given even when the model doubts it (a threshold nothing passes),
    but not when the sentence negates the verb, and not for a question that has a type."""
    from functools import partial

    from qa.config import Settings

    nothing_passes = Policy.from_settings(Settings(min_answer_logprob=0.0))

    def answer(question: str, text: str):  # -> Decision
        r = _retrieval(text)
        prompt = assistant.prompts.render("answer", question=question, evidence=r.evidence)
        judge = partial(assistant.generator.score_continuations, prompt)
        return decide(classify(question), question, r, None, judge, nothing_passes)

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


def _slots(question: str, text: str) -> dict[str, bool]:
    r = _retrieval(text)
    return {c.text: c.fills_slot for c in extract(_texts(r), question, classify(question).slot)}


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


def _verb(text: str, verb: str):  # -> spacy Token
    (doc,) = parse([text])
    return next(t for t in doc if t.lower_ == verb)


def test_an_infinitive_of_purpose_has_the_active_doer_of_the_verb_it_serves() -> None:
    meet = _verb("Mayor Ana Ruiz will travel to Tallport next week to meet with Governor Jon Berg.", "meet")
    assert [t.text for t in subjects(meet)] == ["Ruiz"] and not negated(meet)
    assert subjects(_verb("The road was closed for a week to protect the nesting birds.", "protect")) == []
    assert negated(_verb("Ana Ruiz will not travel to Tallport to meet the governor.", "meet"))


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
    r = _retrieval("Brightway Foods opened a store in Tallport. Brightway Foods bought the bakery chain.")
    question = "Which company bought the bakery chain?"
    found = {c.text: c for c in extract(_texts(r), question, classify(question).slot)}["Brightway Foods"]
    assert found.fills_slot and found.sentence == 1


def test_a_negating_determiner_and_a_closed_quotation_stay_in_the_phrase() -> None:
    r = _retrieval("The two leagues announced a “no limits” partnership on Monday.")
    texts = [c.text for c in extract(_texts(r), "What did the leagues announce?")]
    assert "“no limits” partnership" in texts and "limits” partnership" not in texts


def test_a_quotation_is_a_phrase_without_the_punctuation_inside_its_closing_mark() -> None:
    r = _retrieval("The mayor said the visit was meant to promote “harmony,” not trade.")
    texts = [c.text for c in extract(_texts(r), "What did the visit aim to promote?")]
    assert "harmony" in texts and "harmony," not in texts
