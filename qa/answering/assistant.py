"""The question-answering pipeline: classify -> retrieve -> generate -> decide -> cite.

`Assistant` loads the embedder, index and model once and answers many questions; `ask()` keeps
one Assistant per configuration so repeated calls reuse loaded models.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from functools import cached_property, partial
from pathlib import Path

from qa.answering.answer import Answer
from qa.answering.cite import answer_for
from qa.answering.decide import AnswerMode, Policy, decide
from qa.answering.prompts import PromptLibrary
from qa.answering.question import QuestionForm, classify
from qa.answering.retrieve import Retrieval, Retriever
from qa.answering.tuned import TunedParts, load_tuned
from qa.config import MAX_QUESTION_CHARS, Settings
from qa.errors import InvalidQuestion, SettingsError
from qa.ingest.readers import ReadResult, read_paths
from qa.models.embedder import Embedder
from qa.models.generator import Generator, RemoteGenerator, default_model_path
from qa.models.merge import merged_model
from qa.stores import IngestReport, SearchIndex, add_articles, open_store
from qa.text.dates import published_on

log = logging.getLogger(__name__)

SEED_INDEX = "seeds"


def parse_since(since: date | str | None) -> date | None:
    """A "published since" filter from a date or an ISO day ("2024-05-01")."""
    if since is None or isinstance(since, date):
        return since
    if not str(since).strip():
        return None
    day = published_on(str(since))  # read as articles' own dates are
    if day is None:
        raise InvalidQuestion(f"'since' must be a day like 2024-05-01, not {since!r}.")
    return day


def validate_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion("Please type a question: it is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(
            f"The question is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Please shorten it."
        )
    return question.strip()


class Assistant:
    """Answers questions over one index with one model; safe to share between threads."""

    def __init__(
        self,
        index: str | None = None,
        model_path: str | None = None,
        embedder: str | None = None,
        top_k: int | None = None,
        settings: Settings | None = None,
        tuned: TunedParts | None = None,
    ):
        """`tuned`: the learned parts to use instead of those `QA_TUNED` names (`qa tune` compares
        a folder's parts with and without its reader)."""
        base = settings or Settings.from_env()
        if tuned is not None:
            self.tuned = tuned  # takes the place of the cached property
            if tuned.embedder is not None and not (embedder or base.embedder):
                embedder = str(tuned.embedder)
        self.settings = base.replace(index=index, model_path=model_path, embedder=embedder, top_k=top_k)
        self.store = open_store(self.settings)
        self.prompts = PromptLibrary(self.settings.prompts_dir)
        self._reload_lock = threading.Lock()
        self.embedder = Embedder.from_settings(self.settings)
        self._scoring_problems: dict[str, str | None] = {}  # model server -> why it cannot score
        # A model server is checked at start-up (reachable, and what it can do), not on a question.
        self.answer_mode  # noqa: B018
        self._load_index()

    @property
    def answer_mode(self) -> AnswerMode:
        """`choose` or `generate`: how the model's answer is taken (`QA_ANSWER_MODE`)."""
        return self._answer_mode()[0]

    @property
    def answer_mode_reason(self) -> str:
        return self._answer_mode()[1]

    def _answer_mode(self) -> tuple[AnswerMode, str]:
        """The answer mode in use and why: `auto` is `choose`, unless a model server cannot
        score candidates (`RemoteGenerator.scoring_problem`, asked once per server); `choose`
        or `extract` set for such a server is a start-up error that names the setting and the
        alternative."""
        s = self.settings
        if not s.llm_url:
            if s.answer_mode in ("generate", "extract"):
                return s.answer_mode, "set"
            return "choose", "in-process model"
        if s.answer_mode == "extract":
            raise SettingsError(
                f"QA_ANSWER_MODE=extract restricts what the model writes token by token, which needs the "
                f"model in process, not the server at QA_LLM_URL={s.llm_url}. Set QA_ANSWER_MODE=generate, "
                "or unset QA_LLM_URL."
            )
        server = self.generator
        if s.answer_mode == "generate":
            return "generate", "set"
        assert isinstance(server, RemoteGenerator)
        if s.llm_url not in self._scoring_problems:
            self._scoring_problems[s.llm_url] = server.scoring_problem()
        problem = self._scoring_problems[s.llm_url]
        if problem is None:
            return "choose", f"{server.name} returns prompt log-probabilities"
        if s.answer_mode == "choose":
            raise SettingsError(
                f"QA_ANSWER_MODE=choose needs a model server that scores prompts (echo + logprobs), and "
                f"the one at QA_LLM_URL={s.llm_url} {problem}. Set QA_ANSWER_MODE=generate, or unset it."
            )
        return "generate", f"the model server {problem}"

    @cached_property
    def tuned(self) -> TunedParts:
        """The learned parts in use (`QA_TUNED`)."""
        return load_tuned(self.settings.tuned)

    @cached_property
    def model(self) -> Path | None:
        """The in-process model file (None with a model server, `QA_LLM_URL`)."""
        s = self.settings
        if s.llm_url:
            return None
        return Path(s.model_path).expanduser() if s.model_path else default_model_path()

    @cached_property
    def reader(self) -> Path | None:
        """The tuned reader adapter applied to the model, if the folder has one trained for it."""
        if self.tuned.reader is None or self.model is None:
            return None
        reader = self.tuned.reader_for(self.model)
        if reader is None and self.model.is_file():
            log.warning(
                "The tuned reader adapter was trained for another model than %s; not applied.", self.model
            )
        return reader

    @cached_property
    def generator(self) -> Generator | RemoteGenerator:
        """Loaded on first use: ingesting and retrieval do not need the model (a model server,
        `QA_LLM_URL`, is checked at start-up instead)."""
        s = self.settings
        if self.model is None:
            return RemoteGenerator(s.llm_url)
        if self.reader is None:
            return Generator(self.model, n_ctx=s.n_ctx, n_threads=s.n_threads)
        # Merged once into the user cache: applied at run time, an adapter slows every prompt.
        merged = merged_model(self.model, self.reader, s.cache_dir)
        return Generator(
            merged, n_ctx=s.n_ctx, n_threads=s.n_threads, name=f"{self.model.name} + {self.reader.name}"
        )

    def use_index(self, name: str) -> None:
        """Answer from another index, keeping the loaded embedder and model. A missing or
        incompatible index raises before anything changes."""
        store = open_store(self.settings, name)
        index = None if name == SEED_INDEX and not store.exists() else store.load(self.embedder)
        with self._reload_lock:
            self.settings = self.settings.replace(index=name)
            self.store = store
        if index is None:
            self._load_index()
        else:
            self._activate(index)

    def _load_index(self) -> None:
        if not self.store.exists() and self.settings.index == SEED_INDEX:
            log.info("building the seed index from %s", self.settings.seeds_dir)
            self.ingest([self.settings.seeds_dir])
            return
        self._activate(self.store.load(self.embedder))

    def _activate(self, index: SearchIndex) -> None:
        tuned = self.tuned
        retriever = Retriever(index, self.embedder, tuned.evidence_ranker, tuned.read, tuned.pool)
        self.index, self.retriever = index, retriever

    def ingest(self, paths: list[str | Path], rebuild: bool = False, progress: bool = True) -> IngestReport:
        """Add files or folders to this assistant's index and start using the new version."""
        return self.add(read_paths(paths), rebuild=rebuild, progress=progress)

    def add(self, read: ReadResult, rebuild: bool = False, progress: bool = True) -> IngestReport:
        """Index what was read (files, the app's uploads) and swap in the new version."""
        with self._reload_lock:
            report = add_articles(
                self.store, read, self.embedder, self.settings, rebuild=rebuild, progress=progress
            )
            self._activate(self.store.load(self.embedder, reuse=getattr(self, "index", None)))
        return report

    def retrieve(
        self, question: str, history: list[str] | None = None, top_k: int | None = None,
        since: date | str | None = None, form: QuestionForm | None = None,
    ) -> Retrieval:  # fmt: skip
        """The evidence for a question; `since` keeps only articles published that day or later;
        `form`: the question already classified."""
        query = question
        if history:
            # A follow-up ("and what did Russia say?") is searched with the previous question.
            query = f"{history[-1]} {question}"
        s = self.settings
        return self.retriever.retrieve(
            query,
            top_k or s.top_k,
            s.candidates,
            s.evidence_sentences,
            parse_since(since),
            form or classify(question),
        )

    def ask(
        self, question: str, history: list[str] | None = None, top_k: int | None = None,
        since: date | str | None = None,
    ) -> Answer:  # fmt: skip
        answer = None
        for event in self.stream(question, history, top_k, since):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: list[str] | None = None, top_k: int | None = None,
        since: date | str | None = None,
    ) -> Iterator[str | Answer]:  # fmt: skip
        """Yield text pieces while the model writes, then the final grounded `Answer`.

        `history` holds the earlier questions of a conversation: a follow-up is searched
        together with the question before it; `since` ("2024-05-01" or a date) searches only
        articles published that day or later. The answer itself is decided in `qa.answering.decide`."""
        question = validate_question(question)
        since = parse_since(since)
        started = time.perf_counter()
        form = classify(question)
        retrieval = self.retrieve(question, history, top_k, since, form)
        retrieved_at = time.perf_counter()
        s = self.settings
        mode = self.answer_mode
        calibrated = self.tuned.reader_min_answer_logprob if self.reader is not None else None
        policy = Policy.from_settings(s, mode, self.tuned.candidate_weights, calibrated)
        raw, judge, raw_logprob = None, None, None
        if policy.asks_model(form, retrieval) and mode == "extract":
            prompt = self.prompts.render("answer", question=question, evidence=retrieval.evidence)
            assert isinstance(self.generator, Generator)  # `_answer_mode` refuses a server
            raw, raw_logprob = self.generator.extract(
                prompt, [e.text for e in retrieval.evidence], s.max_answer_tokens
            )
            yield raw
        elif policy.asks_model(form, retrieval):
            prompt = self.prompts.render("answer", question=question, evidence=retrieval.evidence)
            pieces = []
            for piece in self.generator.stream(prompt, s.max_answer_tokens, stop=["\n", "Question:"]):
                pieces.append(piece)
                yield piece
            raw = "".join(pieces)
            judge = partial(self.generator.score_continuations, prompt)  # the prompt is still cached
        decision = decide(form, retrieval, raw, judge, policy, raw_logprob)
        answer = answer_for(
            form, retrieval, decision, raw_output=raw, model=self.generator.name if raw is not None else "",
            index=s.index, settings_hash=s.fingerprint(), answer_mode=mode,
        )  # fmt: skip
        finished = time.perf_counter()
        answer.timings = {
            "retrieve_s": round(retrieved_at - started, 4),
            "generate_s": round(finished - retrieved_at, 4),
            "total_s": round(finished - started, 4),
        }
        yield answer


_cache: dict[tuple, Assistant] = {}
_cache_lock = threading.Lock()


def get_assistant(**options: object) -> Assistant:
    """One shared Assistant per configuration (environment included)."""
    settings = Settings.from_env(**options)
    key = (settings.fingerprint(),)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Assistant(settings=settings)
        return _cache[key]


def ask(
    question: str, index: str | None = None, since: date | str | None = None, **options: object
) -> Answer:
    """Answer `question` from the indexed articles (default index: the seed corpus); `since`
    ("2024-05-01" or a date) keeps only articles published that day or later."""
    return get_assistant(index=index, **options).ask(question, since=since)
