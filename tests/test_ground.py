"""The model's phrase found in the evidence (or not)."""

from qa.answering.ground import ground
from tests.helpers import retrieval_of


def test_a_leading_article_the_sentence_lacks_still_grounds_the_phrase() -> None:
    r = retrieval_of("The tournament will be co-hosted by United States, Canada and Mexico.")
    grounded = ground("- The United States", r.sentences)
    assert grounded is not None and grounded.phrase == "United States" and grounded.supporting == [0]
    assert ground("- The Netherlands", r.sentences) is None
