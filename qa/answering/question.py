"""What kind of answer a question asks for, read from its grammatical form.

"Which state ...?" wants a place, "how many ...?" a count, "why ...?" an explanation. The
classifier looks only at the wh-word and the noun it governs ("which *company*", "what
*percentage*", "what is the name of the *team*"), never at quiz wording, so it carries over to
any English question. Nouns are grouped by what they denote (places, organisations, people,
time); a noun outside the groups makes a THING question whose focus noun is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from qa.text.gazetteer import countries_named, country_names
from qa.text.nlp import negated, objects, parse, subjects
from qa.text.normalize import normalize, words


class AnswerType(StrEnum):
    PERSON = "person"
    PLACE = "place"
    ORGANIZATION = "organization"
    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"
    QUANTITY = "quantity"  # how long / far / old / much (not money): a measured amount
    THING = "thing"  # "which <noun>" of no group above: a phrase of that kind
    EXPLANATION = "explanation"  # why / how (manner) / what happened: a sentence answers it
    DESCRIPTION = "description"  # "Who is Ana Ruiz?", "What is Crimea?": what the name is
    ANY = "any"  # no usable form ("What did X say?"): any phrase of the evidence


def _nouns(text: str) -> frozenset[str]:
    return frozenset(text.split())


# General English nouns by what they denote. Plurals are matched through `_singular`.
PLACE_NOUNS = _nouns(
    "country nation state province city town village county region territory capital island "
    "continent location place area district municipality neighborhood neighbourhood "
    "archipelago peninsula republic kingdom emirate metropolis suburb borough prefecture "
    "canton commonwealth destination site venue port harbor harbour airport border coast "
    "river lake sea ocean mountain volcano desert park street road highway stadium arena"
)
ORGANIZATION_NOUNS = _nouns(
    "company firm business corporation agency organization organisation team club party "
    "group network bank university college school retailer airline carrier brand "
    "manufacturer automaker carmaker maker startup union league institution department "
    "ministry government administration court newspaper magazine publication outlet channel "
    "studio label charity nonprofit foundation council committee commission body band "
    "broadcaster chain restaurant hospital insurer lender bloc alliance coalition giant "
    "conglomerate developer publisher platform app service operator supplier"
)
PERSON_NOUNS = _nouns(
    "person man woman boy girl child people individual politician senator congressman "
    "congresswoman lawmaker legislator governor mayor president minister chancellor "
    "premier leader ruler monarch king queen prince princess pope cardinal bishop actor "
    "actress singer rapper musician artist painter composer author writer poet novelist "
    "journalist reporter anchor host presenter comedian director producer filmmaker athlete "
    "player star champion winner coach manager quarterback pitcher golfer driver boxer "
    "fighter wrestler skier swimmer runner cyclist tennis ceo executive chairman chairwoman "
    "founder billionaire entrepreneur investor businessman businesswoman scientist "
    "researcher doctor physician judge justice lawyer attorney prosecutor official "
    "spokesman spokeswoman spokesperson candidate nominee diplomat ambassador general "
    "officer soldier suspect victim celebrity influencer designer chef astronaut activist "
    "whistleblower economist professor teacher student inventor explorer owner heir engineer "
    "architect pilot nurse surgeon detective agent spy priest monk nun rabbi imam "
    "widow husband wife son daughter father mother brother sister"
)
TIME_NOUNS = _nouns("year date day month week decade century time season era")
PERCENT_NOUNS = _nouns("percentage percent proportion share rate fraction")
MONEY_NOUNS = _nouns("price cost amount sum fee fine salary wage budget value revenue payment")
MONEY_VERBS = re.compile(
    r"\b(cost|costs|pay|paid|pays|spend|spent|spends|worth|price|priced|raise|raised|earn|earned|"
    r"fined|charge|charged|sell|sells|sold|buy|buys|bought|fund|funding|donate|donated|owe|owes|dollars?|"
    r"euros?|pounds?|yen|yuan)\b|[$£€¥]"
)
# Counted units that are lengths of time: "how many years" is answered by "three years".
TIME_UNITS = _nouns("year years day days week weeks month months hour hours minute minutes decade decades")

_WH = re.compile(r"\b(who|whom|whose|which|what|when|where|why|how)\b", re.I)
_AUXILIARY = _nouns(
    "is are was were be been being do does did has have had will would can could shall should may might must"
)
_HOW_AMOUNT = re.compile(r"\bhow (many|much|old|long|far|big|tall|large|high|deep|fast|often)\b", re.I)
_WHAT_HAPPENED = re.compile(r"\bwhat (happened|caused|causes|led to|prompted|went wrong)\b", re.I)
_HOW_MANNER = re.compile(
    r"^(?:\w+\s+){0,2}how\s+(did|does|do|is|was|were|are|will|can|could|has|have)\b", re.I
)


@dataclass(frozen=True)
class Slot:
    """The verb the asked-for phrase is an argument of, and which argument it is: "Which company
    bought the startup?" asks for the subject of *buy*; "What was banned?" and "What did the city
    ban?" for its object; "Who did she meet with?" for the object of *with* after *meet*. The
    anchor is the verb's other core argument in the question ("the plan" of "What does the plan
    try to protect?"): a sentence states the answer only if it says the same of it, and with the
    same polarity ("Which country has not condemned ...?" asks who did *not*)."""

    verb: str  # lemma
    role: str  # "subject", "object", or a preposition
    anchor: str | None = None  # lemma of the other argument's head word
    negated: bool = False
    # "How many troops did ... send?" asks for the number that counts the argument: its noun.
    counted: str | None = None


@dataclass(frozen=True)
class QuestionForm:
    """A question, understood once: the answer type it asks for, the noun it names as its focus
    (if any), the verb argument it asks for (if its grammar says), and what it already says, so
    that no later step parses it again."""

    answer_type: AnswerType
    focus: str | None = None
    wh: str | None = None
    slot: Slot | None = None
    text: str = ""
    words: frozenset[str] = frozenset()  # its normalised words
    named: frozenset[str] = frozenset()  # every name of the countries it names ("US": "united states", ...)
    # The words of the alternatives it offers: nouns coordinated by "or" ("France or Spain").
    offered: frozenset[str] = frozenset()

    @property
    def wants_phrase(self) -> bool:
        """The model is asked for a phrase; an explanation is a sentence and a description is
        read off the sentences' grammar (`candidates.descriptions`)."""
        return self.answer_type not in (AnswerType.EXPLANATION, AnswerType.DESCRIPTION)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _noun_type(noun: str) -> AnswerType | None:
    noun = _singular(noun)
    for nouns, kind in (
        (PERCENT_NOUNS, AnswerType.PERCENT),
        (TIME_NOUNS, AnswerType.DATE),
        (PLACE_NOUNS, AnswerType.PLACE),
        (ORGANIZATION_NOUNS, AnswerType.ORGANIZATION),
        (PERSON_NOUNS, AnswerType.PERSON),
        (MONEY_NOUNS, AnswerType.MONEY),
    ):
        if noun in nouns:
            return kind
    return None


_BE = frozenset("is are was were".split())
_TRANSPARENT = frozenset("kind type sort name".split())  # "the kind of *company*", "the company *name*"
_NOUNISH = frozenset({"ADJ", "NOUN", "PROPN", "NUM"})


def _focus(tokens: list) -> str | None:  # tokens: spacy Tokens after the wh-word
    """The noun a which/what governs: "which European *country*", "what is the name of the
    *airline*", "which two *states*". English compounds end in their head ("which college
    *sport*", "which Supreme Court *justice*"), but a possessive ends the phrase the wh-word
    asks about ("which *country*'s parliament"): the last noun before it when the phrase has a
    common noun ("which state supreme *court*"), else the first word of a known kind ("which
    *state*" of a name)."""
    i = 0
    if tokens and tokens[0].lower_ == "of":  # "which of the following companies"
        i = 1
    if i == 0 and len(tokens) > 1 and tokens[0].lower_ in _BE:  # "what is the capital of ..."
        i = 1
    run: list = []
    after = None
    for token in tokens[i:]:
        word = token.lower_
        if not run and (token.pos_ == "DET" or word in _TRANSPARENT or word in ("of", "following")):
            continue
        if token.pos_ not in _NOUNISH and token.tag_ != "POS":
            after = token
            break
        run.append(token)
    if i == 1 and tokens[0].lower_ in _BE and after is not None and after.pos_ in ("VERB", "AUX"):
        return None  # "what is the administration expected to sell": the noun is the subject
    phrase = run[: next((n for n, t in enumerate(run) if t.tag_ == "POS"), len(run))]
    while phrase and phrase[-1].lower_ in _TRANSPARENT:  # "the company name": the company
        phrase.pop()
    if any(t.pos_ == "NOUN" for t in phrase):
        return [t for t in phrase if t.pos_ in ("NOUN", "PROPN")][-1].lower_
    return next((t.lower_ for t in run if _noun_type(t.lower_) is not None), None)


def classify(question: str) -> QuestionForm:
    """Answer type of `question` from its wh-word and the noun that wh-word governs, the verb
    argument it asks for, and what it already says (one parse)."""
    text = question.strip()
    (doc,) = parse([text])
    said = dict(text=text, words=frozenset(words(text)), named=_countries(text), offered=_offered(doc))
    name = _described(doc)
    if name is not None:
        wh = next(t.lower_ for t in doc if not t.is_punct)
        return QuestionForm(AnswerType.DESCRIPTION, focus=name, wh=wh, **said)
    form = _answer_type(text, doc)
    return replace(form, slot=asked_slot(doc, counting=form.wh == "how many"), **said)


def _countries(text: str) -> frozenset[str]:
    """Every name of the countries the question names, by any of their names or demonyms: a
    candidate that is one of them only restates the question."""
    return frozenset(normalize(name) for country in countries_named(text) for name in country_names(country))


def _offered(doc) -> frozenset[str]:  # doc: spacy Doc of the question
    """The words of the alternatives the question offers: nouns coordinated by "or" ("the game
    between Ada and Bo" names the teams of a game, it offers no choice)."""
    heads = []
    for token in doc:
        if any(c.dep_ == "cc" and c.lower_ == "or" for c in token.children):
            heads += [token, *token.conjuncts]
    return frozenset(
        w for head in heads if head.pos_ in ("NOUN", "PROPN")
        for t in (*[c for c in head.lefts if c.dep_ == "compound"], head) for w in words(t.text)
    )  # fmt: skip


def _described(doc) -> str | None:  # doc: spacy Doc of the question -> the name, or None
    """The name a "Who is Ana Ruiz?" or "What is the Kremlin?" question asks about: who or what,
    a form of "be", and a proper name only. "Who is the mayor?" asks for a name instead."""
    tokens = [t for t in doc if not t.is_punct]
    if len(tokens) < 3 or tokens[0].lower_ not in ("who", "what") or tokens[1].lower_ not in (*_BE, "'s"):
        return None
    name = tokens[2:]
    if name[0].lower_ == "the":
        name = name[1:]
    # The small tagger calls some parts of names nouns ("Xi Jinping"): capitalised, they count.
    if not name or any(t.pos_ != "PROPN" and not (t.is_title and t.pos_ in ("NOUN", "X")) for t in name):
        return None
    if _singular(name[-1].lower_) in PERSON_NOUNS:
        return None  # a title without a name asks for the name: "Who is the Prime Minister?"
    return " ".join(t.text for t in name)


_ARGUMENT_WH = frozenset({"who", "whom", "what", "which"})
_LIGHT_VERBS = frozenset({"be", "have", "do"})
_PREPOSITION_DEPS = frozenset({"prep", "agent", "dative"})  # "sold it *to* Acme" is a dative


def asked_slot(doc, counting: bool = False) -> Slot | None:  # doc: spacy Doc of the question
    """Which argument of which verb the wh-phrase is. A passive subject is the verb's object and
    a by-agent its subject, so "What was banned by X?" and "What did X ban?" ask the same. With
    `counting` (a "how many" question), the number that counts that argument."""
    many = _how_many(doc) if counting else None
    wh = many if many is not None else next((t for t in doc if t.lower_ in _ARGUMENT_WH), None)
    if wh is None:
        return None
    argument = wh.head if wh.dep_ == "det" or many is not None else wh  # "which company" -> company
    counted = do_aux = None
    stranded = _stranded_preposition(doc)
    if stranded is not None:  # "Who did she sell it to?": the wh-phrase is the object of "to"
        verb = stranded.head
        role = "subject" if stranded.lower_ == "by" else stranded.lower_
    elif argument.dep_ == "pobj" and argument.head.dep_ in ("prep", "agent"):
        preposition = argument.head
        verb = preposition.head
        role = "subject" if preposition.dep_ == "agent" else preposition.lower_
    elif argument.dep_ in ("nsubj", "nsubjpass", "dobj"):
        counted = argument.lemma_.lower() if many is not None else None
        verb = argument.head  # the role label is surer than the attachment: climb to a verb
        while not _is_verb(verb) and verb.head.i != verb.i:
            verb = verb.head
        role = "subject" if argument.dep_ == "nsubj" else "object"
        do_aux = _do_support(argument) if argument.dep_ == "nsubj" else None
        if do_aux is not None:  # "Which bakery did the council close?": not the closer
            verb, role = do_aux.head, "object"
        governed = next((c for c in verb.children if c.dep_ == "xcomp" and c.pos_ == "VERB"), None)
        if argument.dep_ != "dobj" and governed is not None:
            # "What is set to replace ...?": the replacer; "Which stores does Acme plan to close?"
            verb, role = governed, "object" if do_aux is not None else "subject"
    else:
        return None
    lemma = verb.lemma_.lower()
    if not _is_verb(verb) or not lemma or lemma in _LIGHT_VERBS:
        return None
    if do_aux is not None:  # the subject between "did" and the verb (often misparsed)
        others = [t for t in doc[do_aux.i + 1 : verb.i] if t.pos_ in ("NOUN", "PROPN")][-1:]
    else:
        others = objects(verb) if role == "subject" else subjects(verb)
    named = [t for t in others if t.i != argument.i and t.pos_ in ("NOUN", "PROPN")]  # not "she"
    anchor = named[0].lemma_.lower() if named else None
    return Slot(lemma, role, anchor, negated(verb), counted)


def _do_support(argument):  # spacy Token: a wh-phrase parsed as subject -> the "do" after it, or None
    """The auxiliary "do" right after the wh-phrase and before another subject: "Which bakery
    *did* the council close?" asks for an object; a subject question takes "do" only before
    "not" ("Which country did not sign?")."""
    doc = argument.doc
    after = argument.right_edge.i + 1
    if after + 1 >= len(doc) or doc[after].lemma_ != "do" or doc[after].dep_ != "aux":
        return None
    return None if doc[after + 1].dep_ == "neg" else doc[after]


def _how_many(doc):  # doc: spacy Doc -> Token | None
    """The "many" of "how many <noun>", which asks for the number of that noun."""
    return next(
        (t for t in doc[1:] if t.lower_ == "many" and t.dep_ == "amod" and t.nbor(-1).lower_ == "how"), None
    )


def _stranded_preposition(doc):  # doc: spacy Doc -> Token | None
    """A preposition without its object ("… sell it *to*?", "… play *for* in 2020?"): the
    wh-phrase is that object. A particle ("set *up*") is no preposition."""
    return next(
        (t for t in doc if t.dep_ in _PREPOSITION_DEPS and t.pos_ == "ADP" and not list(t.children)), None
    )


def _is_verb(token) -> bool:  # token: spacy Token
    """A verb, or a word "do" supports: "What did the council *ban*?" (tagged a noun)."""
    return token.pos_ == "VERB" or any(c.dep_ == "aux" and c.lemma_ == "do" for c in token.children)


def _answer_type(question: str, doc) -> QuestionForm:  # doc: spacy Doc of the question
    text = re.sub(r"\s+", " ", question.strip().lower())
    if _WHAT_HAPPENED.search(text) or re.search(r"\bwhy\b", text):
        return QuestionForm(AnswerType.EXPLANATION, wh="why")
    amount = _HOW_AMOUNT.search(text)
    if amount:
        kind = amount.group(1)
        rest = text[amount.end() :].split()
        if kind == "many":
            unit = rest[0] if rest else None
            if unit in TIME_UNITS:
                return QuestionForm(AnswerType.QUANTITY, focus=unit, wh="how many")
            return QuestionForm(AnswerType.COUNT, focus=unit, wh="how many")
        if kind == "much" and MONEY_VERBS.search(text):
            return QuestionForm(AnswerType.MONEY, wh="how much")
        return QuestionForm(AnswerType.QUANTITY, focus=kind, wh=f"how {kind}")
    if _HOW_MANNER.search(text):
        return QuestionForm(AnswerType.EXPLANATION, wh="how")
    match = _WH.search(text)
    if not match:
        return QuestionForm(AnswerType.ANY)
    wh = match.group(1)
    if wh in ("who", "whom"):
        return QuestionForm(AnswerType.PERSON, wh=wh)
    if wh == "when":
        return QuestionForm(AnswerType.DATE, wh=wh)
    if wh == "where":
        return QuestionForm(AnswerType.PLACE, wh=wh)
    if wh == "how":
        return QuestionForm(AnswerType.EXPLANATION, wh=wh)
    if wh == "whose":
        return QuestionForm(AnswerType.PERSON, wh=wh)
    # which / what: the noun it governs
    position = next((t.i for t in doc if t.lower_ == wh), None)
    tokens = list(doc[position + 1 :]) if position is not None else []
    if tokens and tokens[0].lower_ in _AUXILIARY and tokens[0].lower_ not in _BE:
        return QuestionForm(AnswerType.ANY, wh=wh)  # "what did the mayor say": the object is asked
    focus = _focus(tokens)
    if focus is None:
        return QuestionForm(AnswerType.ANY, wh=wh)
    if tokens[0].lower_ in _BE and _noun_type(focus) is None:
        return QuestionForm(AnswerType.ANY, wh=wh)  # "what is the plan": not a kind of thing
    kind = _noun_type(focus)
    if kind is AnswerType.MONEY and not MONEY_VERBS.search(text) and focus in ("amount", "sum", "value"):
        kind = AnswerType.QUANTITY
    return QuestionForm(kind or AnswerType.THING, focus=_singular(focus), wh=wh)
