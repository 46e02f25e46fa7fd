import json
import subprocess
import sys

import pytest

from qa import Answer, Assistant, InvalidQuestion, ModelError, ask
from qa.answering.answer import ABSTAIN_TEXT
from qa.config import PROJECT_ROOT, Settings
from qa.errors import IndexUnavailable
from qa.ui import sources_html
from tests.conftest import SEED_QUESTION


@pytest.fixture()
def assistant(on_every_store: Assistant) -> Assistant:
    """Every test of this module runs on the FAISS store and on Qdrant (local mode)."""
    return on_every_store


def _assert_exact(assistant: Assistant, answer: Answer) -> None:
    for c in answer.citations:
        article = assistant.index.articles[c.article_id]
        assert article.text[c.start : c.end] == c.sentence
        assert (c.start, c.end) in article.sentences  # a whole sentence, not a fragment


def test_seed_question_is_answered_with_an_exact_cited_sentence(assistant: Assistant, seed_text: str) -> None:
    answer = assistant.ask(SEED_QUESTION)
    assert "Wang Wenbin" in answer.text
    assert not answer.abstained
    assert answer.citations and "[1]" in answer.text
    cited = answer.citations[0]
    assert "Wang Wenbin" in cited.sentence
    assert seed_text[cited.start : cited.end] == cited.sentence
    assert cited.source.endswith(".txt") and cited.title
    _assert_exact(assistant, answer)
    assert {"retrieve_s", "generate_s", "total_s"} <= set(answer.timings)
    json.dumps(answer.to_dict())
    assert str(answer).startswith(answer.text) and "Sources:" in str(answer)


def test_module_level_ask_reuses_one_assistant(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
    first = ask(SEED_QUESTION)
    from qa.answering.assistant import _cache

    loaded = dict(_cache)
    second = ask("Who will Xi Jinping meet?")
    assert _cache == loaded and "Wang Wenbin" in first.text and second.citations


def test_unrelated_question_abstains(assistant: Assistant) -> None:
    answer = assistant.ask("What is the boiling point of liquid nitrogen in kelvin?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.citations == []
    assert answer.searched  # says what was searched
    # and why it abstained, in the printed answer and in the browser's sources panel
    assert answer.reason and answer.reason[1:] in str(answer)
    assert f"Why: {answer.reason}." in sources_html(assistant, answer)


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 2001])
def test_empty_or_oversized_questions_are_refused(assistant: Assistant, question: str) -> None:
    with pytest.raises(InvalidQuestion):
        assistant.ask(question)


def test_invented_marker_is_dropped_and_support_attached(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(assistant.generator), "stream", lambda self, *a, **k: iter([" Wang Wenbin [7]"]))
    answer = assistant.settings  # keep the real settings, only the model output is faked
    answer = assistant.ask(SEED_QUESTION)
    assert "[7]" not in answer.text and answer.citations
    assert all(1 <= c.marker <= len(answer.citations) for c in answer.citations)
    assert "Wang Wenbin" in answer.citations[0].sentence
    _assert_exact(assistant, answer)


@pytest.mark.parametrize("reply", ["", " [1]", " Napoleon Bonaparte [2]"])
def test_odd_model_output_never_yields_an_ungrounded_citation(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    monkeypatch.setattr(type(assistant.generator), "stream", lambda self, *a, **k: iter([reply]))
    for mode in ("generate", "choose"):
        monkeypatch.setattr(assistant, "settings", assistant.settings.replace(answer_mode=mode))
        answer = assistant.ask(SEED_QUESTION)
        assert "Napoleon" not in answer.text
        if answer.abstained:
            assert answer.text == ABSTAIN_TEXT and not answer.citations
        else:
            _assert_exact(assistant, answer)


def test_missing_model_file_is_a_clear_error(settings: Settings, tmp_path) -> None:
    bot = Assistant(settings=settings.replace(model_path=str(tmp_path / "missing.gguf")))
    with pytest.raises(ModelError, match="Model file not found"):
        bot.ask(SEED_QUESTION)


def test_cli_ask_json_prints_the_answer_fields(settings: Settings) -> None:
    env = {"QA_INDEX_DIR": str(settings.index_dir), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "--json", SEED_QUESTION],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    assert {"text", "citations", "abstained", "timings"} <= set(data)
    assert "Wang Wenbin" in data["text"]
    assert {"marker", "sentence", "title", "source", "published", "start", "end", "score"} <= set(
        data["citations"][0]
    )


def test_cli_reports_errors_without_a_traceback(settings: Settings, tmp_path) -> None:
    env = {"QA_INDEX_DIR": str(settings.index_dir), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "qa", "ingest", str(tmp_path / "nothing-here")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    assert out.returncode == 2 and "No such file or folder" in out.stderr and "Traceback" not in out.stderr


def test_models_given_by_path_work(tmp_path) -> None:
    """Any GGUF file and any sentence-transformers folder can be used by path."""
    from qa.models.embedder import DEFAULT_EMBEDDER, default_embedder_path
    from qa.models.generator import default_model_path

    settings = Settings.from_env().replace(index_dir=tmp_path)
    bot = Assistant(
        model_path=str(default_model_path()), embedder=str(default_embedder_path()), settings=settings
    )
    # An index remembers which model built it: the packaged one by path is the packaged model.
    assert bot.embedder.name == DEFAULT_EMBEDDER
    answer = bot.ask(SEED_QUESTION)
    assert "Wang Wenbin" in answer.text and answer.model.endswith(".gguf")


def test_switching_to_a_missing_index_changes_nothing(assistant: Assistant) -> None:
    before = (assistant.settings.index, assistant.index)
    with pytest.raises(IndexUnavailable, match="No index named 'nowhere'"):
        assistant.use_index("nowhere")
    assert (assistant.settings.index, assistant.index) == before
    assert "Wang Wenbin" in assistant.ask(SEED_QUESTION).text


def test_model_phrase_found_beyond_the_top_sentences_is_cited_from_its_passage(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model may answer from a sentence of the passages below the evidence cut-off: the
    answer is kept and that exact sentence is cited."""
    reply = " Volodymyr Zelenskyy"
    monkeypatch.setattr(type(assistant.generator), "stream", lambda self, *a, **k: iter([reply]))
    narrow = assistant.settings.replace(evidence_sentences=1, answer_mode="generate", min_support=0.0)
    monkeypatch.setattr(assistant, "settings", narrow)
    question = "Who will Xi Jinping meet?"
    assert "Zelenskyy" not in assistant.retrieve(question).evidence[0].text
    answer = assistant.ask(question)
    assert answer.text.startswith("Volodymyr Zelenskyy") and not answer.abstained
    assert "Volodymyr Zelenskyy" in answer.citations[0].sentence
    _assert_exact(assistant, answer)


def test_a_windows_1252_article_is_cited_with_exact_offsets(tmp_path, embedder) -> None:
    from qa.ingest.readers import read_paths
    from qa.stores.local.index import IndexStore

    raw = (
        "Tallport harbour fees rise\n\n"
        "The mayor\u2019s \u201charbour plan\u201d will cost \u20ac5 million, the caf\u00e9 owners said. "
        "Fees for moorings rise in May.\n"
    ).encode("cp1252")
    (tmp_path / "old.txt").write_bytes(raw)
    result = read_paths([tmp_path / "old.txt"])
    assert result.notes and "read as cp1252" in result.notes[0]
    settings = Settings.from_env().replace(index_dir=tmp_path / "indexes", index="legacy")
    IndexStore(settings.index_dir, "legacy").ingest(result.articles, embedder, 1200, 1, progress=False)
    bot = Assistant(settings=settings)
    answer = bot.ask("How much will the mayor's harbour plan cost?")
    assert "5 million" in answer.text
    (citation,) = answer.citations
    assert raw.decode("cp1252")[citation.start : citation.end] == citation.sentence
    assert citation.sentence.startswith("The mayor\u2019s \u201charbour plan\u201d")


def test_an_in_process_model_answers_in_choose_mode(assistant: Assistant) -> None:
    assert assistant.settings.answer_mode == "auto" and assistant.answer_mode == "choose"
    assert assistant.ask(SEED_QUESTION).answer_mode == "choose"


def test_extract_mode_answers_with_a_phrase_of_the_cited_sentence(settings: Settings) -> None:
    """The model writes only phrases of the evidence; one it wanted too little is withheld."""
    free = Assistant(settings=settings.replace(answer_mode="extract", min_answer_logprob=-1e9))
    assert free.answer_mode == "extract"
    for question in (SEED_QUESTION, "Which peninsula did Russia seize in 2014?"):
        answer = free.ask(question)
        assert not answer.abstained and answer.answer_mode == "extract", answer.to_dict()
        assert answer.raw_output.strip() in answer.citations[0].sentence
        assert answer.answer_logprob is not None and answer.answer_logprob < 0
    strict = Assistant(settings=settings.replace(answer_mode="extract", min_answer_logprob=-0.001))
    withheld = strict.ask(SEED_QUESTION)
    assert withheld.abstained and withheld.reason == "the model finds no candidate likely enough"
