"""Answer candidates, made in one place: the named entities and noun phrases of evidence
sentences and the model's own phrase, each typed by how well its kind fits the question.

spaCy's English pipeline (see `qa.text.nlp`) finds
entities with their kind (PERSON, GPE, ORG, DATE, PERCENT, ...) and the noun phrases of each
sentence. Every candidate is an exact span of its sentence, so whatever is chosen is grounded by
construction; the one exception is a country named through its demonym ("Ukrainian" ->
Ukraine), which cites the sentence that says "Ukrainian".

`compatibility` says how well a candidate's kind fits the answer type the question asks for:
1.0 the expected kind, 0.5 a kind NER often confuses with it, None a kind that cannot answer.
`candidates` makes them; `qa.answering.rank` scores them; nothing else changes them.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field

from qa.answering.question import PERSON_NOUNS, AnswerType, QuestionForm, Slot
from qa.text.gazetteer import country_of, place_kind
from qa.text.nlp import coordinated, names, negated, objects, parse, subjects
from qa.text.normalize import normalize, words

NOUN_PHRASE = "NP"  # a noun phrase that is not a named entity
MAX_WORDS = 8


# Expected kinds, then kinds accepted at half weight (small NER models often label a company a
# PERSON or a place an ORG). Anything else cannot answer the question.
_KINDS: dict[AnswerType, tuple[frozenset[str], frozenset[str]]] = {
    AnswerType.PERSON: (frozenset({"PERSON"}), frozenset({"ORG", "NORP", "GPE"})),
    AnswerType.PLACE: (frozenset({"GPE", "LOC", "FAC"}), frozenset({"ORG", "NORP", "PERSON"})),
    AnswerType.ORGANIZATION: (
        frozenset({"ORG"}),
        frozenset({"PRODUCT", "NORP", "PERSON", "GPE", "FAC", "WORK_OF_ART"}),
    ),
    AnswerType.COUNT: (frozenset({"CARDINAL"}), frozenset({"QUANTITY"})),
    AnswerType.PERCENT: (frozenset({"PERCENT"}), frozenset()),
    AnswerType.MONEY: (frozenset({"MONEY"}), frozenset({"CARDINAL"})),
    AnswerType.DATE: (frozenset({"DATE"}), frozenset({"TIME"})),
    AnswerType.QUANTITY: (
        frozenset({"QUANTITY", "DATE", "TIME", "CARDINAL"}),
        frozenset({"MONEY", "PERCENT"}),
    ),
    AnswerType.THING: (
        frozenset({NOUN_PHRASE, "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "NORP"}),
        frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC"}),
    ),
}
_AMOUNTS = frozenset({AnswerType.COUNT, AnswerType.PERCENT, AnswerType.MONEY, AnswerType.QUANTITY})
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred thousand million billion trillion dozen dozens hundreds thousands millions billions
    half quarter""".split()
)
# A quotation, without the comma or full stop that news style puts inside its closing mark.
_QUOTED = re.compile(r"[“\"]([^”\"]{2,60}?)[,.;:]?[”\"]")
_CLOSING_QUOTE = {"“": "”", '"': '"', "‘": "’"}  # opening -> closing quotation mark
_PARTNERS = frozenset({"PERSON", "ORG", "GPE", "NORP"})  # who can be met, talked or dealt with
_AMOUNT_LABELS = frozenset({"MONEY", "PERCENT", "CARDINAL", "QUANTITY"})
_LEADING_DROPPED = frozenset({"DET", "PRON", "CCONJ", "PUNCT", "ADP"})
_LONE_FUNCTION = frozenset(
    "the a an this that these those it its he she they we i you his her their our my your "
    "there here who what which mr mrs ms dr".split()
)


@dataclass
class Candidate:
    """A possible answer: its text, the sentence that carries it, and its kind."""

    text: str
    sentence: int  # position in `Retrieval.sentences` (a stable id for this question)
    label: str  # spaCy entity label, or NOUN_PHRASE
    generated: bool = False  # the model wrote this phrase itself
    fills_slot: bool = False  # its sentence states it in the asked verb argument (`slot_fillers`)
    fit: float = 1.0  # type compatibility with the question (see `compatibility`)
    # Shorter spans naming the same thing, which the model may find likelier as the answer: the
    # amount without its hedge, the person without their title (`_core`).
    forms: tuple[str, ...] = ()
    # Set by `qa.answering.rank` only: the features, the model's likelihood, the weighted score.
    logprob: float = 0.0
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def candidates(
    form: QuestionForm, sentences: dict[int, str], generated: tuple[str, int] | None = None
) -> list[Candidate]:
    """The phrases of `sentences` (position -> text) that can answer the question, and the
    model's own phrase (`generated`: the phrase and the position of a sentence carrying it),
    each with its type fit; a kind that cannot answer is left out."""
    found = extract(sentences, form)
    if generated is not None:
        _add_generated(found, *generated, sentences, form)
    typed = []
    for candidate in found:
        fit = compatibility(form, candidate.label, candidate.text)
        if fit is not None:
            candidate.fit = fit
            typed.append(candidate)
    return typed


def _add_generated(
    found: list[Candidate], phrase: str, position: int, sentences: dict[int, str], form: QuestionForm
) -> None:
    """Mark the candidate the model wrote, or add its phrase with the kind it has in its sentence.
    A phrase that only restates the question is no answer, whoever wrote it ("Which country is
    Acme's biggest buyer?" is not answered "Acme")."""
    if restates(form, phrase):
        return
    key = normalize(phrase)
    for candidate in found:
        if normalize(candidate.text) == key:
            candidate.generated = True
            return
    if key:
        found.append(Candidate(phrase, position, label_of(phrase, sentences[position]), generated=True))


def compatibility(form: QuestionForm, label: str, text: str = "") -> float | None:
    """How well a candidate of kind `label` fits the question's answer type."""
    kind = form.answer_type
    if kind in (AnswerType.ANY, AnswerType.EXPLANATION):
        return 1.0
    if kind is AnswerType.DATE and form.focus == "year":
        # "What year": a date that names one.
        return (
            1.0
            if label in ("DATE", "CARDINAL") and any(len(w) == 4 and w.isdigit() for w in words(text))
            else None
        )
    if kind in _AMOUNTS and not _has_number(text):
        return None  # "how many / how much / what percentage" is answered with a number
    expected, accepted = _KINDS[kind]
    if kind is AnswerType.PLACE and form.focus in ("country", "state", "city") and label == "GPE":
        # A "which state" question wants a state, not one of its cities (both are GPE).
        named = place_kind(text)
        return 1.0 if named == form.focus or (form.focus == "city" and named == "place") else 0.5
    if label in expected:
        return 1.0
    if label in accepted:
        return 0.5
    return None


def _has_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text) or any(w in _NUMBER_WORDS for w in words(text))


def extract(sentences: dict[int, str], form: QuestionForm) -> list[Candidate]:
    """Entities, pairs of entities and noun phrases of `sentences` (position -> text), best
    position first, without the question's own words. One candidate per distinct text: the
    first (best-ranked) sentence that carries it, or a later one that states it in the question's
    slot ("Acme bought the startup" answers "Which company bought ...?")."""
    slot = form.slot
    positions = sorted(sentences)
    docs = parse([sentences[p] for p in positions])
    found: dict[str, Candidate] = {}

    def add(text: str, position: int, label: str, fill: bool, forms: tuple[str, ...] = ()) -> None:
        key = normalize(text)
        tokens = key.split()
        if not tokens or len(tokens) > MAX_WORDS:
            return
        if key in found:
            if fill and not found[key].fills_slot:  # cited where it fills the asked slot
                found[key].sentence, found[key].fills_slot = position, True
            return
        if restates(form, text):
            return
        found[key] = Candidate(text, position, label, fills_slot=fill, forms=forms)

    for position, doc in zip(positions, docs, strict=True):
        fills = functools.partial(_fills, fillers=slot_fillers(doc, slot) if slot is not None else [])
        entities = [
            _with_title(t) if t is not None and t.label_ == "PERSON" else t for t in map(_trim, doc.ents)
        ]
        for ent in entities:
            if ent is None:
                continue
            core = _core(ent)
            add(ent.text, position, ent.label_, fills(ent), (core.text,) if core is not None else ())
            if ent.label_ == "NORP" and (country := country_of(ent.text)):
                add(country, position, "GPE", fills(ent))
        # "Nevada and Oregon": a question may ask for a pair of the same kind.
        for a, b in itertools.pairwise(e for e in entities if e is not None):
            between = doc[a.end : b.start].text.strip()
            if a.label_ == b.label_ and between in ("and", "&"):
                add(doc[a.start : b.end].text, position, a.label_, fills(doc[a.start : b.end]))
        # A short quotation is a name the article gives something: a “no limits” partnership.
        for match in _QUOTED.finditer(doc.text):
            quoted = doc.char_span(*match.span(1), alignment_mode="expand")
            add(match.group(1), position, NOUN_PHRASE, quoted is not None and fills(quoted))
        covered = {i for e in doc.ents for i in range(e.start, e.end)}
        for chunk in doc.noun_chunks:
            span = _trim(chunk)
            if span is None or span.root.pos_ == "PRON":
                continue
            if all(i in covered for i in range(span.start, span.end)):
                continue  # an entity already
            add(span.text, position, NOUN_PHRASE, fills(span))
    return list(found.values())


def _core(span):  # spacy Span -> Span | None
    """An amount without the words that hedge it ("almost 4,000", "just over 12%"), a person
    without their title ("Harbor pilot Tomas Reyes"): the shorter span the entity ends with, or
    None. The model judges an answer by its words, and a hedge is no part of what was asked."""
    start = span.start
    if span.label_ in _AMOUNT_LABELS:
        while start < span.end and span.doc[start].pos_ not in ("NUM", "SYM"):
            start += 1
    elif span.label_ == "PERSON":
        while start < span.end and span.doc[start].ent_type_ != "PERSON":
            start += 1
    if start in (span.start, span.end):
        return None
    core = span.doc[start : span.end]
    core.label_ = span.label_
    return core


def restates(form: QuestionForm, text: str) -> bool:
    """`text` is nothing the question does not already say: its own words, or nothing but
    function words, or a country it names by a demonym or short name ("Which country did the US
    ..." is not answered by "United States" or "U.S."; "United", an airline, may answer). One of
    the alternatives the question offers ("France or Spain") is an answer."""
    key = normalize(text).split()
    if any(t in form.offered for t in key) and all(t in form.offered or t in _LONE_FUNCTION for t in key):
        return False
    return all(t in form.words or t in _LONE_FUNCTION for t in key) or " ".join(key) in form.named


_RELATIVE_PRONOUNS = {"that", "which", "who", "whom"}
_REFERRING = frozenset({"it", "this", "that", "these", "those", "them"})  # pronouns for things
_PERSONAL = frozenset({"he", "she"})
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame"})  # no description alone


def slot_fillers(doc, slot: Slot) -> list:  # doc: spacy Doc -> list of Tokens
    """The head words of the phrases a sentence of `doc` states in `slot`: the subject, object or
    prepositional object of a use of its verb that is negated exactly when the question's verb is,
    and whose other arguments name the question's anchor ("What did Acme buy?" is not answered
    by "Brightway bought the chain") or only refer back to it as its object ("has not confirmed
    this"). For "how many", the number that counts the argument (`_counts`). Read through the
    passive ("was bought by Acme": Acme is the buyer), a relative pronoun ("Acme, which bought":
    Acme), conjoined nouns ("Acme and Beta bought": both) and appositives ("Crimea, the peninsula
    that Russia seized": both)."""
    heads = []
    for verb in doc:
        if verb.pos_ != "VERB" or verb.lemma_.lower() != slot.verb or negated(verb) != slot.negated:
            continue
        doers, done_to = subjects(verb), objects(verb)
        if slot.role == "subject":
            found = doers
        elif slot.role == "object":
            # Without an object, a named partner after "with" stands for it: "meet (with) Ana
            # Ruiz", not "signed with a flourish".
            found = done_to or [
                g for c in verb.children if c.dep_ == "prep" and c.lower_ == "with"
                for g in c.children if g.dep_ == "pobj" and g.ent_type_ in _PARTNERS
            ]  # fmt: skip
        else:
            preps = [c for c in verb.children if c.dep_ in ("prep", "dative") and c.lower_ == slot.role]
            found = [g for c in preps for g in c.children if g.dep_ == "pobj"]
        others = [_referent(t, verb) for t in doers + done_to if t not in found]
        # An appositive names the same thing: "The spokeswoman, Ana Ruiz, said" names Ruiz.
        others += [c for t in others for c in t.children if c.dep_ == "appos" and _appositive(c)]
        arguments = set().union(*(names(t) for t in others))
        # An object that only refers back ("has not confirmed *this*") names nothing else.
        referred = bool(others) and all(t in done_to and t.lower_ in _REFERRING for t in others)
        if slot.anchor is not None and slot.anchor not in arguments and not referred:
            continue
        for head in (_referent(t, verb) for t in found):
            same = [head, *head.conjuncts]
            # An appositive names the same thing: "Crimea, the peninsula Russia seized".
            same += [t.head for t in same if t.dep_ == "appos" and _appositive(t)]
            same += [c for t in same for c in t.children if c.dep_ == "appos" and _appositive(c)]
            if slot.counted:
                same = _counts(same, slot.counted)
            heads += same
    return list({t.i: t for t in heads}.values())


def descriptions(sentences: list[str], name: str) -> list[list[str]]:
    """What each sentence says `name` is, as exact spans of it: the noun phrase it stands beside
    ("The port spokeswoman, Ana Ruiz, said": the port spokeswoman), its appositive ("Crimea, the
    peninsula Russia seized"), the title before it ("Harbour pilot Tomas Reyes") or what it is
    said to be ("Brightway is a bakery chain")."""
    return [_descriptions(doc, words(name)) for doc in parse(sentences)]


def _descriptions(doc, wanted: list[str]) -> list[str]:  # doc: spacy Doc, the name's words
    found = []
    for span in _mentions(doc, wanted):
        head = span.root
        if head.dep_ in ("compound", "poss"):
            continue  # the name modifies another noun: "the Reyes case", "Ruiz's plan"
        phrases = []
        if head.dep_ == "appos" and _appositive(head) and head.head.pos_ in ("NOUN", "PROPN"):
            beside = head.head
            while beside.dep_ == "pobj" and beside.head.head.pos_ in ("NOUN", "PROPN"):
                beside = beside.head.head  # "the mayor of Tallport, Ana Ruiz": the mayor
            phrases.append(doc[beside.left_edge.i : span.start])
        phrases += [
            doc[c.left_edge.i : c.right_edge.i + 1] for c in head.children
            if c.dep_ == "appos" and _appositive(c) and not any(g.dep_ in ("cc", "conj") for g in c.children)
        ]  # fmt: skip
        # A list of names is no appositive ("Tomas Reyes, Ana Ruiz and Mira Solberg"): a phrase
        # beside the name has a common noun.
        phrases = [p for p in phrases if any(t.pos_ == "NOUN" for t in p)]
        phrases += [p for p in [_title(head, span)] if p is not None]
        be = head.head
        if head.dep_ == "nsubj" and be.lemma_ == "be" and not negated(be) and be.dep_ != "ccomp":
            phrases += [doc[c.left_edge.i : c.right_edge.i + 1] for c in be.children if c.dep_ == "attr"]
        for phrase in phrases:
            while len(phrase) and (phrase[-1].is_punct or phrase[-1].pos_ == "CCONJ"):
                phrase = phrase[:-1]
            nominal = any(
                t.pos_ in ("NOUN", "PROPN") and t.lower_.rstrip(".") not in _HONORIFICS for t in phrase
            )
            if nominal and not set(wanted) & set(words(phrase.text)):
                found.append(phrase.text)
    return found


def _mentions(doc, wanted: list[str]) -> list:  # spacy Doc, words -> Spans
    """Where the sentence names `wanted` (normalised words: "ines ruiz lind" for "Inés
    Ruiz-Lind"), extended to the whole name it is part of ("Ruiz" in "Ana Ruiz")."""
    flat = [(w, t.i) for t in doc for w in words(t.text)]
    found = []
    for n in range(len(flat) - len(wanted) + 1):
        if [w for w, _ in flat[n : n + len(wanted)]] == wanted:
            start, end = flat[n][1], flat[n + len(wanted) - 1][1] + 1
            # Inside a name that starts before: an entity, or a name's part the recogniser missed
            # ("Ana" of "Ana Ruiz"; not a title: "Mayor").
            while start > 0 and (
                doc[start].ent_iob_ == "I"
                or (
                    doc[start - 1].pos_ == "PROPN"
                    and doc[start - 1].dep_ == "compound"
                    and doc[start - 1].lemma_.lower() not in PERSON_NOUNS
                )
            ):
                start -= 1
            found.append(doc[start:end])
    return found


def _title(head, name):  # spacy Token, Span -> Span | None
    """The words before a name that say what it is: "Harbour pilot Tomas Reyes", "Ukrainian
    President Volodymyr Zelenskyy"; not the rest of a name ("Ana" of "Ana Ruiz", "Mayor Ana" of
    "Mayor Ana Ruiz"): the title ends in a common noun or a noun for a person."""
    before = [t for t in head.lefts if t.dep_ in ("compound", "amod") and t.i < name.start]
    if not before:
        return None
    doc = head.doc
    start, end = min(t.left_edge.i for t in before), name.start
    while end > start and doc[end - 1].pos_ != "NOUN" and doc[end - 1].lemma_.lower() not in PERSON_NOUNS:
        end -= 1
    return doc[start:end] if end > start else None


def _counts(arguments: list, noun: str) -> list:  # spacy Tokens, a lemma -> Tokens
    """The numbers that count `noun` in these arguments: "sent 5,000 troops" (the number modifies
    the noun), "sent thousands of troops" (the number heads it); not "thousands of deaths", and
    not a bare number, which may count anything ("will cut 300 million")."""
    found = []
    for token in arguments:
        if token.like_num or token.ent_type_ in _AMOUNT_LABELS:
            of = [g for c in token.children if c.lower_ == "of" for g in c.children if g.dep_ == "pobj"]
            if any(g.lemma_.lower() == noun for g in of):
                found.append(token)
        elif token.lemma_.lower() == noun:
            found += [c for c in token.children if c.dep_ == "nummod"]
    return found


def _referent(token, verb):  # spacy Tokens: a verb's argument and the verb -> Token
    """The argument itself, or for a relative pronoun the noun its clause is about ("Acme, which
    bought …": Acme; "the chain, which Acme bought": the chain), or for "he" or "she" as the
    subject of a clause coordinated with another, that clause's subject when it is one person
    (`_continued_person`: "Harbour pilot Tomas Reyes praised the crews, but he did not name the
    contractor": Reyes)."""
    if verb.dep_ == "relcl" and _relative_pronoun(token, verb):
        return verb.head
    if token.lower_ in _PERSONAL and token.dep_ == "nsubj" and coordinated(token.head):
        return _continued_person(token.head.head) or token
    return token


def _continued_person(clause):  # spacy Token: the verb of the clause before "he"/"she" -> Token | None
    """The one person the clause is about, whom "he" or "she" continues: its grammatical subject
    when that is a named person or a singular noun for a person ("the spokeswoman"; not "the
    court", "officials" or "Acme"), and the clause acts on no other person ("The minister met
    the ambassador, but he …" could be either)."""
    subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None or not _person(subject) or subject.tag_ not in ("NN", "NNP"):
        return None
    if any(c.dep_ == "poss" for c in subject.children):
        return None  # "Reyes's wife …, but he …": either of them
    if any(_person(c) for c in clause.children if c.dep_ in ("dobj", "dative")):
        return None
    return subject


def _person(token) -> bool:  # spacy Token
    return token.ent_type_ == "PERSON" or (token.pos_ == "NOUN" and token.lemma_.lower() in PERSON_NOUNS)


def _relative_pronoun(token, clause) -> bool:  # spacy Tokens: a verb's argument, the relative clause verb
    """The pronoun that opens a relative clause; the small tagger often calls "that" a conjunction."""
    return token.tag_ in ("WDT", "WP") or (
        token.lower_ in _RELATIVE_PRONOUNS and token.i == clause.left_edge.i
    )


def _appositive(token) -> bool:  # spacy Token with dep "appos"
    """A real appositive: a noun phrase set off beside another, not the subject of a verb that
    follows it ("…Ukraine, the minister said" is misread as naming Ukraine the minister)."""
    following = token.doc[token.right_edge.i + 1] if token.right_edge.i + 1 < len(token.doc) else None
    return following is None or following.pos_ not in ("VERB", "AUX")


def _fills(span, fillers: list) -> bool:  # span: spacy Span, fillers: Tokens
    """`span` holds a filler's head word: "civilian populations", not "civilian"."""
    return any(span.start <= head.i < span.end for head in fillers)


def _with_title(span):  # spacy Span -> Span
    """A person with the title news gives them: "President Joe Biden", "Finance Minister Ana
    Ruiz" (capitalised nouns just before the name; "former" and the like stop it, and so does a
    named place or body: "Oregon Gov. Ana Ruiz" gives "Gov. Ana Ruiz")."""
    doc, start = span.doc, span.start
    while (
        start > 0
        and span.start - start < 3
        and doc[start - 1].is_title
        and doc[start - 1].pos_ in ("PROPN", "NOUN")
        and not doc[start - 1].ent_type_
    ):
        start -= 1
    extended = doc[start : span.end]
    extended.label_ = span.label_
    return extended


def label_of(text: str, sentence: str) -> str:
    """The kind of a phrase found in `sentence` (the model's own answer): the label of the
    entity it names or sits inside, else a number kind or a noun phrase."""
    key = f" {normalize(text)} "
    (doc,) = parse([sentence])
    for ent in doc.ents:
        trimmed = _trim(ent)
        if key in f" {normalize(trimmed.text if trimmed is not None else ent.text)} ":
            return ent.label_
    return "CARDINAL" if any(ch.isdigit() for ch in text) else NOUN_PHRASE


def _trim(span):  # spacy.tokens.Span -> Span | None
    """Drop leading determiners, pronouns and punctuation ("the", "its") and a trailing
    possessive: "the Kremlin's" -> "Kremlin". "No" negates and stays ("no limits"), and so
    does a quotation mark the phrase closes (a “no limits” partnership)."""
    start, end = span.start, span.end
    doc = span.doc
    while (
        start < end
        and doc[start].lower_ != "no"
        and (doc[start].pos_ in _LEADING_DROPPED or doc[start].tag_ == "PRP$")
    ):
        start += 1
    while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].pos_ == "PUNCT"):
        end -= 1
    if start >= end:
        return None
    opening = doc[start - 1].text if start > span.start else ""
    if opening in _CLOSING_QUOTE and any(t.text == _CLOSING_QUOTE[opening] for t in doc[start:end]):
        start -= 1
    trimmed = doc[start:end]
    trimmed.label_ = span.label_
    return trimmed
