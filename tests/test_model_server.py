"""Generation on a model server (`QA_LLM_URL`): llama-cpp-python's OpenAI-compatible server with
the packaged model, on a loopback port, against the same model in-process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from qa.answering.assistant import Assistant
from qa.config import Settings
from qa.errors import SettingsError
from qa.models.generator import Generator, RemoteGenerator, default_model_path

pytest.importorskip("sse_starlette")  # llama_cpp.server's own dependencies (in `.[dev]`)

QUESTIONS = [
    "Who is the Chinese foreign ministry spokeswoman?",
    "Who will Xi Jinping meet in Russia?",
    "In what year did the Soviet Union collapse?",
]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--seed", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                pytest.fail("llama_cpp.server exited at start-up")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_answers_through_the_server_match_the_in_process_model(settings: Settings, server_url: str) -> None:
    local = Assistant(settings=settings.replace(answer_mode="generate"))
    remote = Assistant(settings=settings.replace(answer_mode="generate", llm_url=server_url))
    assert isinstance(remote.generator, RemoteGenerator) and server_url in remote.generator.name
    answered = []
    for question in QUESTIONS:
        here, there = local.ask(question), remote.ask(question)
        assert there.raw_output == here.raw_output
        assert (there.text, there.abstained) == (here.text, here.abstained)
        assert [c.sentence for c in there.citations] == [c.sentence for c in here.citations]
        answered.append(not there.abstained)
    assert answered[:2] == [True, True]  # (the model's own year for the third is not in the article)
    pieces = list(remote.stream(QUESTIONS[0]))
    assert len(pieces) > 2 and "Wang Wenbin" in pieces[-1].text  # text streamed, then the Answer


def test_candidates_are_scored_by_the_server_as_in_process(server_url: str) -> None:
    prompt = "The mayor of Riverton, Ana Ortiz, opened the bridge.\nQuestion: Who is the mayor?\nAnswer:"
    candidates = ["Ana Ortiz", "the bridge"]
    there = RemoteGenerator(server_url + "/v1/").score_continuations(prompt, candidates)  # the usual form
    here = Generator().score_continuations(prompt, candidates)
    assert there == pytest.approx(here, abs=0.05)
    assert there[0] > there[1]


def test_an_unreachable_server_is_a_start_up_error_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(
        SettingsError, match="QA_LLM_URL=http://127.0.0.1:9 \\(tried GET http://127.0.0.1:9/v1/models"
    ):
        Assistant(settings=settings.replace(llm_url="http://127.0.0.1:9"))


def test_a_server_address_with_v1_is_the_same_server(server_url: str) -> None:
    assert RemoteGenerator(server_url + "/v1").url == RemoteGenerator(server_url).url == server_url
    with pytest.raises(SettingsError, match=f"tried GET {server_url}/v2/v1/models"):
        RemoteGenerator(server_url + "/v2")


def test_default_settings_pick_the_mode_the_server_can_serve(settings: Settings, server_url: str) -> None:
    """llama_cpp.server scores prompts far slower than it completes them: `auto` generates."""
    for url in (server_url, server_url + "/v1"):
        remote = Assistant(settings=settings.replace(llm_url=url))
        assert remote.settings.answer_mode == "auto"
        assert remote.answer_mode == "generate", remote.answer_mode_reason
        assert "score a short prompt" in remote.answer_mode_reason
        answer = remote.ask(QUESTIONS[0])
        assert not answer.abstained and "Wang Wenbin" in answer.text and answer.answer_mode == "generate"
    with pytest.raises(SettingsError, match="QA_ANSWER_MODE=choose needs .* Set QA_ANSWER_MODE=generate"):
        Assistant(settings=settings.replace(llm_url=server_url, answer_mode="choose"))
    with pytest.raises(SettingsError, match="QA_ANSWER_MODE=extract .* needs the model in process"):
        Assistant(settings=settings.replace(llm_url=server_url, answer_mode="extract"))


def test_qa_ask_says_which_mode_the_server_is_used_in(settings: Settings, server_url: str) -> None:
    env = {**os.environ, "QA_LLM_URL": server_url + "/v1", "QA_INDEX_DIR": str(settings.index_dir)}
    command = [sys.executable, "-m", "qa", "ask", QUESTIONS[0]]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "answer mode generate" in run.stderr and "Wang Wenbin" in run.stdout
