"""Prompt templates are files: rendered with the evidence, checked for what they must use."""

from pathlib import Path

import pytest

from qa.answering.prompts import PromptLibrary
from qa.config import Settings
from qa.errors import QAError
from tests.helpers import retrieval_of


def test_the_answer_prompt_lists_the_evidence_and_ends_where_the_model_goes_on() -> None:
    evidence = retrieval_of("Ana Ruiz opened the bridge. The storm passed.").evidence
    library = PromptLibrary(Settings().prompts_dir)
    prompt = library.render("answer", question="Who opened it?", evidence=evidence)
    assert "Ana Ruiz opened the bridge." in prompt and "The storm passed." in prompt
    assert "Who opened it?" in prompt and prompt == prompt.rstrip()


def test_a_missing_template_or_one_without_the_evidence_is_a_clear_error(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path)
    with pytest.raises(QAError, match="not found"):
        library.render("answer", question="q", evidence=[])
    (tmp_path / "answer.jinja").write_text("Question: {{ question }}\nAnswer:")
    with pytest.raises(QAError, match="must use \\['evidence'\\]"):
        library.render("answer", question="q", evidence=[])
