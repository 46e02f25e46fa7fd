"""Prompt templates: Jinja2 files in `prompts/`, so wording is tuned without touching code."""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import meta

from qa.errors import QAError

REQUIRED = {"answer": {"question", "evidence"}}


class PromptLibrary:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )

    def render(self, name: str, **values: object) -> str:
        file = f"{name}.jinja"
        try:
            source = self.env.loader.get_source(self.env, file)[0]  # type: ignore[union-attr]
        except jinja2.TemplateNotFound as exc:
            raise QAError(f"Prompt template not found: {self.folder / file}") from exc
        missing = REQUIRED.get(name, set()) - meta.find_undeclared_variables(self.env.parse(source))
        if missing:
            raise QAError(f"Prompt {self.folder / file} must use {sorted(missing)}")
        # A completion prompt ends where the model goes on: "Answer:" and not "Answer:\n", or the
        # model starts a new line instead of answering (and candidates are judged after one).
        return self.env.get_template(file).render(**values).rstrip()
