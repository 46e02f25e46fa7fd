"""Evidence built from invented text, for the tests of the answering steps."""

from qa.answering.retrieve import Evidence, Retrieval
from qa.records import Article
from qa.text.sentences import split_sentences


def retrieval_of(text: str, title: str = "Regional news", support: float = 0.5) -> Retrieval:
    """Every sentence of `text` as evidence, in order, each carrying `support`."""
    article = Article(title=title, text=text, source="test.txt")
    article.sentences = split_sentences(text)
    sentences = [Evidence(article, i, 1.0 - i / 10, support, 0) for i in range(len(article.sentences))]
    return Retrieval("q", [], sentences, n_evidence=len(sentences))


def texts_of(retrieval: Retrieval) -> dict[int, str]:
    """The evidence sentences by position, as the candidates read them."""
    return {i: e.text for i, e in enumerate(retrieval.evidence)}
