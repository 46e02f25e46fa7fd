from pathlib import Path

import pytest

from qa.errors import IngestError
from qa.ingest.readers import read_paths


def test_reads_every_format_with_metadata(corpus_dir: Path) -> None:
    result = read_paths([corpus_dir])
    by_title = {a.title: a for a in result.articles}
    assert result.skipped == []
    assert set(by_title) >= {"Harbour bridge reopens", "Storm Ada hits the coast", "Chess prodigy wins title"}
    md = by_title["Harbour bridge reopens"]
    assert md.published == "2026-03-02" and "**" not in md.text and "Mira Solberg" in md.text
    html = by_title["Storm Ada hits the coast"]
    assert html.published == "2026-01-15"
    assert "var x" not in html.text and "Home | News" not in html.text
    wire = by_title["Chess prodigy wins title"]
    assert wire.source == "https://example.org/chess" and wire.id == "w1"
    for article in result.articles:
        for start, end in article.sentences:
            assert article.text[start:end].strip() == article.text[start:end]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="No such file"):
        read_paths([tmp_path / "nope.txt"])


def test_bad_files_are_skipped_with_a_reason_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A good article. It has two sentences.")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    result = read_paths([tmp_path])
    assert [a.text for a in result.articles] == ["A good article. It has two sentences.", "Caf\xe9 au lait."]
    messages = "\n".join(result.skipped)
    assert "binary.txt: skipped, binary file" in messages
    assert "empty.md: skipped, empty file" in messages
    assert "unsupported file type '.pdf'" in messages


def test_malformed_jsonl_lines_are_reported_by_line_number(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"title": "One", "text": "First article text."}\n'
        "{not json\n"
        '{"title": "No text"}\n'
        '{"title": "Two", "text": "Second article text."}\n'
    )
    result = read_paths([path])
    assert [a.title for a in result.articles] == ["One", "Two"]
    assert any("feed.jsonl:2: skipped, malformed JSON" in s for s in result.skipped)
    assert any("feed.jsonl:3: skipped" in s for s in result.skipped)


LEGACY_ARTICLE = (
    "Tallport harbour fees rise\n\n"
    "The mayor\u2019s \u201charbour plan\u201d will cost \u20ac5 million, the caf\u00e9 owners said. "
    "Fees for moorings rise in May.\n"
)


def test_a_windows_1252_article_is_decoded_and_reported(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes(LEGACY_ARTICLE.encode("cp1252"))
    result = read_paths([tmp_path])
    assert result.skipped == []
    assert result.notes == [f"{tmp_path / 'old.txt'}: not UTF-8, read as cp1252"]
    (article,) = result.articles
    assert article.text == LEGACY_ARTICLE


def test_a_cyrillic_code_page_is_recognised_and_binary_noise_stays_skipped(tmp_path: Path) -> None:
    cyrillic = "Мэр сказал, что новый мост откроют в мае. Ремонт стоил пять миллионов рублей.\n"
    (tmp_path / "ru.txt").write_bytes(cyrillic.encode("cp1251"))
    (tmp_path / "noise.txt").write_bytes(bytes(range(1, 256)) * 8)
    result = read_paths([tmp_path])
    assert [a.text for a in result.articles] == [cyrillic]
    assert len(result.skipped) == 1 and "noise.txt: skipped" in result.skipped[0]


def test_utf16_with_a_byte_order_mark_and_utf8_with_a_stray_cp1252_byte_are_read(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_bytes("The caf\u00e9 reopened in Tallport. It serves tea.".encode("utf-16"))
    (tmp_path / "mixed.txt").write_bytes("The caf\u00e9 reopened. It".encode() + b"\x92s open daily.")
    result = read_paths([tmp_path])
    texts = sorted(a.text for a in result.articles)
    assert texts == [
        "The caf\u00e9 reopened in Tallport. It serves tea.",
        "The caf\u00e9 reopened. It\u2019s open daily.",
    ]
    assert any("mixed.txt: not UTF-8, read as UTF-8 with some cp1252 bytes" in n for n in result.notes)
    assert any("wide.txt: not UTF-8, read as utf-16-le" in n for n in result.notes)
