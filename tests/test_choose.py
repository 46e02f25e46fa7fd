"""Answer candidates and grounding on real article records (no model needed)."""

from qa.choose import extract_candidates
from qa.cite import ground
from qa.records import Article
from qa.retrieve import Evidence
from qa.split import split_sentences


def _evidence(text: str, title: str = "Lottery winners") -> list[Evidence]:
    article = Article(title=title, text=text, source="test.txt")
    article.sentences = split_sentences(text)
    return [Evidence(article, i, 1.0 - i / 10, 0.5, 0) for i in range(len(article.sentences))]


def test_pairs_of_names_are_candidates_as_well_as_each_name() -> None:
    evidence = _evidence("Two players in Missouri and Texas shared the prize. The draw was held in Florida.")
    texts = [c.text for c in extract_candidates("Which two states sold the winning tickets?", evidence)]
    assert "Missouri and Texas" in texts and "Missouri" in texts and "Texas" in texts
    assert "Florida" in texts


def test_question_words_and_lower_case_words_are_not_candidates() -> None:
    evidence = _evidence(
        "Reducing sugar helps, Dr Ana Ruiz said. Missouri officials agree reducing it helps."
    )
    texts = [c.text for c in extract_candidates("Which state's officials agreed with Missouri?", evidence)]
    assert "Dr Ana Ruiz" in texts
    assert "Missouri" not in texts and "Reducing" not in texts


def test_a_leading_article_the_sentence_lacks_still_grounds_the_phrase() -> None:
    evidence = _evidence("The tournament will be co-hosted by United States, Canada and Mexico.")
    grounded = ground("- The United States", evidence)
    assert grounded is not None and grounded.phrase == "United States" and grounded.supporting == [0]
    assert ground("- The Netherlands", evidence) is None
