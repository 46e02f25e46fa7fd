"""Shared fixtures: the real embedder, a real seed index in a temp folder, the real model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.answering.assistant import Assistant
from qa.config import PROJECT_ROOT, Settings
from qa.models.embedder import Embedder

SEED_QUESTION = "Who is the Chinese foreign ministry spokeswoman?"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index folder is private to the test session."""
    return Settings.from_env().replace(index_dir=tmp_path_factory.mktemp("indexes"))


@pytest.fixture(scope="session")
def seed_assistant(settings: Settings) -> Assistant:
    """The default configuration on the seed index (built on first use, as for users)."""
    return Assistant(settings=settings)


@pytest.fixture(scope="session")
def assistant(seed_assistant: Assistant) -> Assistant:
    return seed_assistant


STORES = ["faiss", "qdrant"]


def store_settings(settings: Settings, store: str, folder: Path) -> Settings:
    """The same settings on another store: Qdrant in qdrant-client's local mode in `folder`."""
    return settings if store == "faiss" else settings.replace(store="qdrant", qdrant_path=folder)


@pytest.fixture(scope="session")
def assistants(
    settings: Settings, seed_assistant: Assistant, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """The seed assistant on every store, built on first use; tests that take `assistant` from
    `on_every_store` run once per store."""
    built = {"faiss": seed_assistant}
    folder = tmp_path_factory.mktemp("qdrant")

    class Lazy(dict):
        def __missing__(self, store: str) -> Assistant:
            self[store] = Assistant(settings=store_settings(settings, store, folder))
            return self[store]

    return Lazy(built)


@pytest.fixture(params=STORES)
def on_every_store(request: pytest.FixtureRequest, assistants: dict) -> Assistant:
    return assistants[request.param]


@pytest.fixture()
def seed_text() -> str:
    return next((PROJECT_ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    """A small folder of articles in every supported format."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for seed in (PROJECT_ROOT / "seeds").glob("*.txt"):
        shutil.copy(seed, folder / seed.name)
    (folder / "harbour.md").write_text(
        "---\ntitle: Harbour bridge reopens\ndate: 2026-03-02\n---\n# Harbour bridge reopens\n\n"
        "The Lindqvist harbour bridge in Tallport reopened on Monday after two years of repairs. "
        "Engineer Mira Solberg led the **restoration** team.\n"
    )
    (folder / "storm.html").write_text(
        "<html><head><title>Storm Ada hits the coast</title>"
        "<meta property='article:published_time' content='2026-01-15'></head>"
        "<body><nav>Home | News</nav><article><h1>Storm Ada hits the coast</h1>"
        "<p>Storm Ada brought winds of 140 km/h to Port Elric on Tuesday.</p>"
        "<p>About 12,000 homes lost power, the utility Elric Energy said.</p></article>"
        "<script>var x = 1;</script></body></html>"
    )
    (folder / "wire.jsonl").write_text(
        '{"id": "w1", "title": "Chess prodigy wins title", "url": "https://example.org/chess", '
        '"published": "2026-02-01", "text": "Ten-year-old Ines Carvalho won the national chess '
        'title in Braga. She beat three grandmasters on the way."}\n'
    )
    return folder


# Invented weeks of news for the tuning tests: packs in the evaluation format.
TOWNS = ["Tallport", "Brenvik", "Oskarby", "Lundmere"]
PEOPLE = ["Mira Solberg", "Ivo Kestrel", "Ana Ruiz", "Tomas Varga"]
THINGS = ["bridge", "library", "harbour", "stadium"]


def invented_week(folder: Path, week: int) -> Path:
    """Four invented articles and their questions: each names who led a project in a town."""
    folder.mkdir(parents=True)
    articles, questions = [], []
    for n in range(4):
        town, person, thing = TOWNS[(n + week) % 4], PEOPLE[(n + 2 * week) % 4], THINGS[n]
        text = (
            f"Officials in {town} gathered on Monday. The new {thing} in {town} opened after two years "
            f"of work. {person} led the {thing} project from the start. Residents welcomed the opening. "
            f"The council will meet again next month"
        )
        articles.append({"id": f"w{week}-{n}", "title": f"{town} opens its {thing}",
                         "url": f"https://example.org/{week}/{n}", "published": f"2026-0{week + 1}-02",
                         "text": text})  # fmt: skip
        questions.append({"id": f"w{week}-q{n}", "question": f"Who led the {thing} project in {town}?",
                          "answers": [person], "answerable": True})  # fmt: skip
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n")
    return folder


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("weeks")
    for week in range(4):
        invented_week(root / f"2026010{week}", week)
    return root
