"""What the project reads from a parse: a verb's doer and what it acts on, and its negation."""

from qa.text.nlp import negated, parse, subjects


def _verb(text: str, verb: str):  # -> spacy Token
    (doc,) = parse([text])
    return next(t for t in doc if t.lower_ == verb)


def test_an_infinitive_of_purpose_has_the_active_doer_of_the_verb_it_serves() -> None:
    meet = _verb("Mayor Ana Ruiz will travel to Tallport next week to meet with Governor Jon Berg.", "meet")
    assert [t.text for t in subjects(meet)] == ["Ruiz"] and not negated(meet)
    assert subjects(_verb("The road was closed for a week to protect the nesting birds.", "protect")) == []
    assert negated(_verb("Ana Ruiz will not travel to Tallport to meet the governor.", "meet"))
