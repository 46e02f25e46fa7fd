"""Questions a reader of the seed article would ask, through the real pipeline (embedder, index,
spaCy, model): the right answer with the sentence that states it, or the abstention when the
article does not say."""

import pytest

from qa import Assistant
from qa.answering.answer import ABSTAIN_TEXT
from qa.ui import EXAMPLES

# question -> (a phrase the answer must contain, a phrase the cited sentence must contain)
ANSWERED = {
    "Who is the Chinese foreign ministry spokeswoman?": ("Wang Wenbin", "spokeswoman, Wang Wenbin"),
    "Who will Xi Jinping meet in Russia?": ("Vladimir Putin", "meet with President Vladimir Putin"),
    "What does China's plan for Ukraine try to protect?": ("civilian populations", "protect civilian"),
    "Which Ukrainian president may Xi call after the visit?": ("Zelenskyy", "phone conversation"),
    "In what year did the Soviet Union collapse?": ("1991", "collapse of the Soviet Union"),
    "How many regions does Moscow say Ukraine must accept the annexation of?": ("four", "four regions"),
    "What kind of partnership did China and Russia announce?": ("no limits", "“no limits” partnership"),
    "Why do the United States and NATO distrust Beijing's mediation?": ("not condemned", "untrustworthy"),
    # The question's verb, read in the sentence: who does it, to what, negated or not.
    "Which organisation regards Beijing's mediation as untrustworthy?": ("NATO", "NATO have regarded"),
    "Which country has not condemned Russia's invasion of Ukraine?": ("China", "China has not condemned"),
    "Who indicated that Xi's visit was meant to promote harmony?": ("Wang Wenbin", "Wenbin, indicated"),
    "Which peninsula did Russia seize in 2014?": ("Crimea", "Russia forcibly seized"),
    # The model's own phrase may only repeat the question ("Russia"): it is no answer.
    "Which country is Russia's largest oil buyer?": ("China", "largest oil buyer"),
    # A passive's subject does what the verb it governs says ("the visit was intended to promote").
    "What did Xi's visit aim to promote?": ("harmony", "intended to promote"),
    # "he" continues the clause's doer (the spokeswoman, Wang Wenbin); a coordinated verb shares it.
    "What did Wang Wenbin not expressly mention?": ("Ukrainian crisis", "did not expressly mention"),
    "What will the two presidents strengthen?": ("bilateral trust", "strengthen bilateral trust"),
    # "Who is <a name>?": what a sentence says the name is (beside it, before it).
    "Who is Wang Wenbin?": ("foreign ministry spokeswoman", "spokeswoman, Wang Wenbin"),
    "What is Crimea?": ("Black Sea peninsula", "Crimea, the Black Sea peninsula"),
    "Who is Volodymyr Zelenskyy?": ("Ukrainian President", "Ukrainian President Volodymyr"),
}
NOT_COVERED = [
    "What is the boiling point of liquid nitrogen?",
    "How many people attended the Beijing summit?",
    "Who won the 2022 football World Cup?",
    "Who is Angela Merkel?",
]


@pytest.fixture()
def assistant(on_every_store: Assistant) -> Assistant:
    """Every test of this module runs on the FAISS store and on Qdrant (local mode)."""
    return on_every_store


def test_the_app_examples_are_among_the_checked_questions() -> None:
    assert set(EXAMPLES) <= set(ANSWERED)


@pytest.mark.parametrize("question", list(ANSWERED))
def test_reader_questions_are_answered_with_the_sentence_that_says_so(
    assistant: Assistant, seed_text: str, question: str
) -> None:
    expected, evidence = ANSWERED[question]
    answer = assistant.ask(question)
    assert not answer.abstained, answer.to_dict()
    assert expected in answer.text, (answer.text, answer.answer_type, answer.raw_output)
    cited = answer.citations[0]
    assert evidence in cited.sentence and seed_text[cited.start : cited.end] == cited.sentence


@pytest.mark.parametrize("question", NOT_COVERED)
def test_questions_the_article_does_not_cover_get_the_abstention(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations
