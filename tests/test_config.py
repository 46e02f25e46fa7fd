"""Settings are validated once: a bad `QA_*` value is one line naming it, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qa.config import PROJECT_ROOT, Settings, default_index_dir
from qa.errors import SettingsError

BAD_VALUES = [
    ("QA_TOP_K", "abc", "an integer from 1 to 100"),
    ("QA_TOP_K", "0", "an integer from 1 to 100"),
    ("QA_N_CTX", "1.5", "an integer"),
    ("QA_MIN_SUPPORT", "1.5", "a number from 0.0 to 1.0"),
    ("QA_MIN_ANSWER_LOGPROB", "high", "a number"),
    ("QA_MIN_ANSWER_LOGPROB", "1", "a number from -1000000000000.0 to 0.0"),
    ("QA_ANSWER_MODE", "bogus", "one of 'auto', 'choose', 'generate'"),
]


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_VALUES)
def test_a_bad_value_names_the_variable_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert str(error.value).startswith(f"{variable}={value!r} is not valid")
    assert allowed in str(error.value)


def test_a_misspelt_variable_is_reported_with_the_known_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TOPK", "3")
    with pytest.raises(SettingsError, match="Unknown setting QA_TOPK.*QA_TOP_K"):
        Settings.from_env()


def test_good_values_are_typed_and_options_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TOP_K", " 7 ")
    monkeypatch.setenv("QA_MIN_SUPPORT", "0.2")
    monkeypatch.setenv("QA_INDEX_DIR", "~/news-indexes")
    settings = Settings.from_env()
    assert (settings.top_k, settings.min_support) == (7, 0.2)
    assert str(settings.index_dir) == os.path.expanduser("~/news-indexes")
    with pytest.raises(SettingsError, match="top_k=0 is not valid"):
        settings.replace(top_k=0)


def test_ask_raises_the_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.answering.assistant import ask

    monkeypatch.setenv("QA_ANSWER_MODE", "bogus")
    with pytest.raises(SettingsError, match="QA_ANSWER_MODE"):
        ask("Who reopened the harbour bridge?")


@pytest.mark.parametrize("command", [["-m", "qa", "indexes"], ["-m", "qa", "ask", "Who?"], ["app.py"]])
def test_cli_and_app_exit_2_with_one_line(command: list[str]) -> None:
    env = {**os.environ, "QA_TOP_K": "abc"}
    out = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120
    )
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines[-1] == "error: QA_TOP_K='abc' is not valid: expected an integer from 1 to 100"
    assert "Traceback" not in out.stderr


def test_app_refuses_to_serve_other_addresses_without_a_login() -> None:
    env = {k: v for k, v in os.environ.items() if k != "QA_AUTH"}
    out = subprocess.run(
        [sys.executable, "app.py", "--host", "0.0.0.0"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert "--auth USER:PASSWORD" in out.stderr and "--allow-anonymous" in out.stderr
    bad = subprocess.run(
        [sys.executable, "app.py", "--host", "0.0.0.0", "--auth", "editor"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "expected USER:PASSWORD" in bad.stderr and "editor" not in bad.stderr


def test_paths_nan_and_blank_values(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from pathlib import Path

    assert Settings.from_env(model_path=Path("/models/x.gguf")).model_path == "/models/x.gguf"
    monkeypatch.setenv("QA_MIN_ANSWER_LOGPROB", "nan")
    with pytest.raises(SettingsError, match="QA_MIN_ANSWER_LOGPROB"):
        Settings.from_env()
    monkeypatch.delenv("QA_MIN_ANSWER_LOGPROB")
    monkeypatch.setenv("QA_INDEX_DIR", "   ")
    assert Settings.from_env().index_dir == default_index_dir()  # blank: the default
    # In code a blank value is a value (an index named "" is refused where it is opened).
    assert Settings.from_env(index="").index == ""
    monkeypatch.setenv("qa_top_k", "7")  # variables are read in any case, as pydantic-settings does
    assert Settings.from_env().top_k == 7
    monkeypatch.setenv("qa_top_k", "x")
    with pytest.raises(SettingsError, match="qa_top_k='x' is not valid"):
        Settings.from_env()


def test_a_login_without_a_colon_is_refused_without_echoing_it() -> None:
    from qa.ui import parse_users

    with pytest.raises(SettingsError) as error:
        parse_users(["hunter2"], None)
    assert "hunter2" not in str(error.value) and "USER:PASSWORD" in str(error.value)
    assert parse_users(["ed:pa:ss"], None) == [("ed", "pa:ss")]


def test_the_configuration_page_is_the_settings_object() -> None:
    """docs/configuration.md cannot drift: it is what `qa settings --markdown` writes."""
    from qa.config import settings_markdown

    page = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    regenerate = "python -m qa settings --markdown > docs/configuration.md"
    assert page == settings_markdown(), f"regenerate it: {regenerate}"
    for name in Settings.model_fields:
        assert f"`QA_{name.upper()}`" in page


def test_qa_settings_shows_the_values_in_effect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from qa.cli import main

    monkeypatch.setenv("QA_TOP_K", "7")
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "QA_TOP_K=7\t(set)" in lines and "QA_MIN_SUPPORT=0.15\t(default)" in lines
