"""Access control of the browser app: a login when asked for, and a read-only mode in which
nothing that changes the index is offered, in the page or through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import SEED_QUESTION
from tests.test_ui import browser, running_app  # noqa: F401 - the browser fixture is shared

LOGIN = ("editor", "harbour-lights-42")


@pytest.fixture(scope="module")
def locked_url() -> Iterator[str]:
    with running_app("--auth", ":".join(LOGIN), "--read-only") as url:
        yield url


def test_login_page_refuses_a_wrong_password_then_lets_the_user_in(locked_url: str, browser) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(locked_url)
    password = page.locator("input[type=password]")
    password.wait_for(timeout=60_000)
    assert page.locator("#chat").count() == 0
    username = page.locator("input[type=text]").first
    username.fill(LOGIN[0])
    password.fill("wrong-password")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect Credentials").wait_for(timeout=30_000)
    assert page.locator("#chat").count() == 0
    username.fill(LOGIN[0])
    password.fill(LOGIN[1])
    page.get_by_role("button", name="Login").click()
    page.locator("#chat").wait_for(timeout=60_000)
    page.get_by_text("Index and settings").click()
    page.locator("#index-stats").wait_for(timeout=30_000)
    assert page.locator("#upload").count() == 0  # read-only: no upload control


def test_read_only_api_answers_but_offers_no_upload(locked_url: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is no access
        Client(locked_url, verbose=False)
    client = Client(locked_url, auth=LOGIN, verbose=False)
    assert "Wang Wenbin" in client.predict(SEED_QUESTION, api_name="/ask")["text"]
    config = client.config
    assert not [c for c in config["components"] if c.get("type") == "file"]
    triggers = {t[1] for d in config["dependencies"] for t in d.get("targets", [])}
    assert "upload" not in triggers and "change" not in triggers
