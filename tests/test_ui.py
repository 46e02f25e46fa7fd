"""The browser chat, end to end: a real app process, a real Chromium, the real model."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_QUESTION

CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def running_app(*options: str) -> Iterator[str]:
    """`python app.py OPTIONS` on a free port, with a private copy of the seed index."""
    from qa.eval.soak import started_app

    with started_app(*options) as (url, _):
        yield url


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


def _ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def test_api_endpoint_answers_with_answer_dict(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert "Wang Wenbin" in result["text"] and not result["abstained"]
    assert "Wang Wenbin" in result["citations"][0]["sentence"]
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", api_name="/ask")
    # "Only articles since": the seed article has no date, so a date leaves nothing to cite.
    later = client.predict(SEED_QUESTION, "2026-01-01", api_name="/ask")
    assert later["abstained"] and not later["citations"]
    with pytest.raises(Exception, match="2024-05-01"):
        client.predict(SEED_QUESTION, "last week", api_name="/ask")


def test_eight_concurrent_questions_are_all_answered(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    questions = [SEED_QUESTION, "Who will Xi Jinping meet in Russia?"] * 4
    jobs = [client.submit(q, api_name="/ask") for q in questions]
    results = [job.result(timeout=300) for job in jobs]
    assert len(results) == 8
    assert all(r["question"] == q for r, q in zip(results, questions, strict=True))
    assert all("Wang Wenbin" in r["text"] for r in results[::2])


def test_browser_question_shows_answer_and_highlighted_source(app_url: str, browser) -> None:
    page = browser.new_page()
    page.goto(app_url)
    _ask(page, SEED_QUESTION)
    page.locator("#sources mark").first.wait_for(timeout=120_000)
    assert "Wang Wenbin" in page.locator("#chat").inner_text()
    highlighted = page.locator("#sources mark").first.inner_text()
    assert "Wang Wenbin" in highlighted
    assert page.locator("#source-1").is_visible()


def test_browser_oversized_message_gets_a_notice_and_no_answer(app_url: str, browser) -> None:
    page = browser.new_page()
    page.goto(app_url)
    _ask(page, "x" * 2500)
    notice = page.get_by_text("the limit is 2,000")
    notice.wait_for(timeout=60_000)
    assert notice.is_visible() and "2,500 characters" in notice.inner_text()
    assert page.locator("#sources mark").count() == 0  # nothing was answered or cited


def test_upload_adds_an_article_that_can_then_be_asked(app_url: str, browser, tmp_path: Path) -> None:
    article = tmp_path / "lighthouse.txt"
    article.write_text(
        "Lighthouse keeper retires after forty years\n"
        "Keeper Oskar Lindahl retired on Sunday after forty years at the Kestrel Point lighthouse. "
        "The lighthouse will be automated next spring, the coast authority said.\n"
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01binary\x00")
    page = browser.new_page()
    page.goto(app_url)
    page.get_by_text("Index and settings").click()
    page.locator("#upload input[type=file]").set_input_files([str(article), str(empty), str(binary)])
    status = page.locator("#upload-status")
    status.get_by_text("1 added").wait_for(timeout=120_000)
    text = status.inner_text()
    assert "empty.txt: skipped, empty file" in text and "blob.txt: skipped, binary file" in text
    _ask(page, "Who retired from the Kestrel Point lighthouse?")
    page.locator("#sources mark").first.wait_for(timeout=120_000)
    assert "Oskar Lindahl" in page.locator("#chat").inner_text()
    assert "Oskar Lindahl" in page.locator("#sources").inner_text()


class _Upload:
    """What Gradio hands the upload handler: a temp path plus the name the client sent."""

    def __init__(self, path: Path, orig_name: str):
        self.name, self.orig_name = str(path), orig_name


def test_upload_rejects_path_tricks_and_oversized_files(
    assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.ui as ui

    tricky = tmp_path / "x.txt"
    tricky.write_text("A harmless article. It has two sentences.")
    big = tmp_path / "big.txt"
    big.write_text("Big article sentence. " * 200)
    monkeypatch.setattr(ui, "MAX_UPLOAD_BYTES", 1024)
    before = len(assistant.index.articles)
    message = ui.upload_files(assistant, [_Upload(tricky, "../../x.txt"), _Upload(big, "big.txt")])
    assert "../../x.txt: rejected, the file name contains a path" in message
    assert "big.txt: rejected" in message and "upload limit" in message
    assert len(assistant.index.articles) == before
    assert "No file chosen" in ui.upload_files(assistant, [])
    monkeypatch.setattr(ui, "MAX_UPLOAD_FILES", 1)
    too_many = ui.upload_files(assistant, [_Upload(tricky, "a.txt"), _Upload(tricky, "b.txt")])
    assert "at most 1 files per upload; nothing was added" in too_many
    assert len(assistant.index.articles) == before
