from qa.records import Article
from qa.text.sentences import chunk_article, ends_as_statement, is_question, split_sentences


def test_sentences_are_exact_spans_of_the_text(seed_text: str) -> None:
    spans = split_sentences(seed_text)
    assert len(spans) > 10
    for start, end in spans:
        sentence = seed_text[start:end]
        assert sentence == sentence.strip() and sentence
    assert any("Wang Wenbin" in seed_text[s:e] for s, e in spans)


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = 'Mr. Smith met J. K. Rowling in the U.S. capital. "It went well," he said. Next!'
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [
        "Mr. Smith met J. K. Rowling in the U.S. capital.",
        '"It went well," he said.',
        "Next!",
    ]


def test_line_breaks_end_sentences_and_blank_lines_vanish() -> None:
    text = "Headline without a period\n\nFirst sentence. Second one?\n   \n"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Headline without a period",
        "First sentence.",
        "Second one?",
    ]


def test_chunks_overlap_by_one_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    article = Article(title="t", text=text, source="s", sentences=split_sentences(text))
    chunks = chunk_article(article, chunk_chars=90, overlap=1)
    assert len(chunks) > 2
    assert chunks[0].first == 0 and chunks[-1].last == 11
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.first == before.last  # one shared sentence
    assert all(c.text == text[article.sentences[c.first][0] : article.sentences[c.last][1]] for c in chunks)


def test_questions_are_told_from_statements() -> None:
    assert is_question("How did the ferry service begin?")
    assert is_question('Residents asked: "Who will pay for the repairs?"')
    assert is_question("Will the quay reopen (and when?)")
    assert not is_question("“Who will pay?” the mayor asked on Monday.")
    assert not is_question("The quay reopened on Monday.")


def test_headlines_and_captions_do_not_end_as_statements() -> None:
    assert ends_as_statement("The quay reopened on Monday.")
    assert ends_as_statement('"It went well," he said.')
    assert ends_as_statement("Boats are back!")
    assert not ends_as_statement("Quay reopens after storm repairs")
    assert not ends_as_statement("More: Ferry timetable for the winter")
    assert not ends_as_statement("How did it go?")
