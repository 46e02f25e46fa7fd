"""Normalised words, shared by grounding checks and the evaluation metrics."""

from qa.text.normalize import contains_phrase, normalize, words


def test_case_accents_and_punctuation_are_folded() -> None:
    assert normalize("  Inés Ruiz-Lind, “Mayor”! ") == "ines ruiz lind mayor"
    assert words("The U.S. Senate") == ["the", "u", "s", "senate"]


def test_a_phrase_is_contained_only_as_whole_words() -> None:
    assert contains_phrase("Iran and Iraq signed.", "iran")
    assert not contains_phrase("Iranian officials signed.", "Iran")
    assert contains_phrase("The São Paulo office", "Sao Paulo")
    assert not contains_phrase("anything", "  ,. ")  # nothing to look for
