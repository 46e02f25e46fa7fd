"""One settings object for the whole pipeline, read from `QA_*` environment variables.

Every knob lives here so the CLI, the UI and the eval runner share one source of truth, and
every answer can carry a hash of the settings that produced it. pydantic-settings reads the
variables and validates each value once (type, range, allowed values): a bad one is a
`SettingsError` naming the variable, never a traceback on the first question. Each setting's
description is the one `docs/configuration.md` shows (`qa settings --markdown` writes it).
"""

from __future__ import annotations

import hashlib
import json
import os
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Le
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from qa.errors import ModelError, SettingsError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 2000
PREFIX = "QA_"
# The packaged model's likelihood threshold (`min_answer_logprob` unset, no tuned reader).
MODEL_MIN_ANSWER_LOGPROB = -6.75
# `extract` mode's threshold on the log-probability of the restricted answer (`min_answer_logprob`
# unset): with the reader adapter, the least strict one that abstains on the held-out training
# weeks' unanswerable questions as often as the default does (docs/experiments.md).
EXTRACT_MIN_ANSWER_LOGPROB = -2.0
# The parts learned from past news quizzes that ship in the package (`QA_TUNED=packaged`), and
# the sub-folder of a tuned folder that holds its embedder.
PACKAGED_TUNED = Path(__file__).resolve().parent / "tuned"
TUNED_EMBEDDER = "embedder"
# Read by the browser app, not by the pipeline; listed so they are not reported as unknown.
APP_VARIABLES = {"QA_AUTH"}


def in_checkout() -> bool:
    """Running from the repository (editable install or `python -m qa` in the checkout)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "prompts").is_dir()


def data_path(name: str) -> Path:
    """`prompts` or `seeds`: the repository's folder in a checkout, the copy shipped inside
    the package (`qa/_data/`, written by the build) when installed from a wheel."""
    if in_checkout():
        return PROJECT_ROOT / name
    return Path(str(resources.files("qa") / "_data" / name))


def default_index_dir() -> Path:
    """`indexes/` of the checkout; the user's data folder when installed (never site-packages)."""
    if in_checkout():
        return PROJECT_ROOT / "indexes"
    import platformdirs

    return Path(platformdirs.user_data_dir("qa-news")) / "indexes"


def default_prompts_dir() -> Path:
    """`prompts/` of the checkout, or the copy inside the installed package."""
    return data_path("prompts")


def default_seeds_dir() -> Path:
    """`seeds/` of the checkout, or the copy inside the installed package."""
    return data_path("seeds")


def default_cache_dir() -> Path:
    """The user's cache folder: derived files that can always be rebuilt (the ONNX export)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa-news"))


def default_threads() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Pipeline configuration: defaults, then `QA_<FIELD>` variables, then explicit options
    (`Settings.from_env(top_k=3)`); frozen, so an answer's settings hash stays true."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="forbid", protected_namespaces=()
    )

    index_dir: Path = Field(default_factory=default_index_dir, description="Where indexes live.")
    prompts_dir: Path = Field(
        default_factory=default_prompts_dir, description="The prompt templates (`answer.jinja`)."
    )
    seeds_dir: Path = Field(
        default_factory=default_seeds_dir, description="The articles the default index is built from."
    )
    index: str = Field("seeds", description="The index questions are answered from.")
    model_path: str | None = Field(
        None, description="A GGUF model file to answer with; unset: the packaged Gemma 3 270M."
    )
    llm_url: str | None = Field(
        None,
        description="An OpenAI-compatible completions server to generate with instead of an "
        "in-process model (llama_cpp.server, vLLM, ...); checked at start-up (`docs/scaling.md`).",
    )
    embedder: str | None = Field(
        None,
        description="A sentence-transformers model folder; unset: the embedder of the `QA_TUNED` folder "
        "if it has one, else the packaged all-MiniLM-L6-v2. An index remembers its embedder (a folder by "
        "its name and a digest of its files) and refuses another.",
    )
    embedder_runtime: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8",
        description="`onnx-int8`: the embedder exported once to ONNX with int8 weights (~1.7x "
        "faster, vectors at cosine >= 0.98 of torch's); `torch`: sentence-transformers as is.",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir, description="Derived files (the embedder's ONNX export)."
    )
    store: Literal["faiss", "qdrant"] = Field(
        "faiss",
        description="Where indexes live: `faiss` (files under the index folder, no server) or "
        "`qdrant` (a server at `QA_QDRANT_URL`, or local mode on the folder `QA_QDRANT_PATH`).",
    )
    qdrant_url: str | None = Field(None, description="A Qdrant server or cluster (`QA_STORE=qdrant`).")
    qdrant_path: Path | None = Field(None, description="A folder for qdrant-client's local mode.")
    qdrant_api_key: str | None = Field(None, description="The Qdrant server's API key, if it has one.")
    n_ctx: int = Field(2048, ge=256, le=131072, description="The model's context, in tokens.")
    n_threads: int = Field(
        default_factory=default_threads, ge=1, le=512, description="Threads for the model and embedder."
    )
    max_answer_tokens: int = Field(12, ge=1, le=512, description="The longest phrase the model writes.")
    answer_mode: Literal["auto", "choose", "generate", "extract"] = Field(
        "auto",
        description="`choose`: rank the evidence's names, numbers and quotes and the model's own "
        "phrase by the model's likelihood (best for small base models); `generate`: keep the "
        "model's phrase; `extract`: the model writes only phrases of the evidence, and one it "
        "wanted little is withheld (in-process models; suits a tuned reader); `auto`: `choose`, "
        "except with a model server that does not return prompt log-probabilities (echo + "
        "logprobs) about as fast as a completion: `generate`.",
    )
    chunk_chars: int = Field(
        1200, ge=100, le=100_000, description="Passages are packed from sentences up to about this size."
    )
    chunk_overlap: int = Field(1, ge=0, le=20, description="Sentences consecutive passages share.")
    top_k: int = Field(5, ge=1, le=100, description="Passages an answer lists as retrieved.")
    candidates: int = Field(40, ge=1, le=10_000, description="Passages each search (dense, BM25) returns.")
    evidence_sentences: int = Field(
        8, ge=1, le=200, description="Best sentences of the retrieved passages an answer is chosen from."
    )
    tuned: str = Field(
        "off",
        description="The parts learned from past news quizzes (`qa tune`, docs/tuning.md): `off` (the "
        "hand-set rules), `packaged` (the shipped rankers, tuned on 2022-2023 quizzes: they put the answer "
        "among the evidence more often but answer dev and val no better, so they are not the default), or "
        "a folder `qa tune --out` wrote (a tuned embedder, rankers, and a reader adapter for the model, "
        "merged into it in the cache folder on first use).",
    )
    min_support: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="An answer is given only when the sentence it cites carries at least this share of "
        "the question's key terms (IDF-weighted, with its title); when no evidence sentence does, the "
        "model is not asked.",
    )
    min_answer_logprob: float | None = Field(
        None,
        ge=-1e12,
        le=0.0,  # the bounds also refuse nan
        description="In `choose` and `extract` mode, a phrase the model finds less likely than this as the "
        "answer (its log-probability after the evidence prompt) is withheld; -1e9 disables it. Unset: "
        f"{MODEL_MIN_ANSWER_LOGPROB} (chosen for the packaged model on the dev and val packs together), or "
        "the value `qa tune` calibrated for its reader adapter when one is applied; in `extract` mode "
        f"{EXTRACT_MIN_ANSWER_LOGPROB} (calibrated with the reader adapter; the model alone is less sure of "
        "any phrase and abstains far more at it).",
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        """Explicit options, then `QA_*` variables (trimmed; blank = unset); no .env or secrets files."""
        return init_settings, _TrimmedEnvironment(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _paths_as_text(cls, values: Any) -> Any:
        """A path given for a text setting (`model_path=Path(...)`) is its text."""
        if not isinstance(values, dict):
            return values
        return {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in values.items()}

    @field_validator("index_dir", "prompts_dir", "seeds_dir", "cache_dir", "qdrant_path")
    @classmethod
    def _home(cls, path: Path | None) -> Path | None:
        return path.expanduser() if path is not None else None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `QA_*` variables, then explicit non-None overrides, all validated.
        A bad value raises `SettingsError` naming the variable, the value and what is allowed."""
        names = set(cls.model_fields)
        unknown = sorted(
            key for key in os.environ  # read case-insensitively, as pydantic-settings reads them
            if key.upper().startswith(PREFIX) and key[len(PREFIX):].lower() not in names
            and key.upper() not in APP_VARIABLES
        )  # fmt: skip
        if unknown:
            known = ", ".join(variable(n) for n in sorted(names))
            raise SettingsError(f"Unknown setting {unknown[0]}; the settings are: {known}")
        given = {k: v for k, v in overrides.items() if v is not None}
        for name in given:
            if name not in names:
                raise SettingsError(f"Unknown setting '{name}'")
        try:
            return cls(**given)
        except ValidationError as exc:
            raise _error(exc, given, from_environment=True) from None

    def replace(self, **changes: object) -> Settings:
        """A copy with the non-None `changes`, validated (the environment is not read again)."""
        given = {k: v for k, v in changes.items() if v is not None}
        for name in given:
            if name not in type(self).model_fields:
                raise SettingsError(f"Unknown setting '{name}'")
        try:
            return type(self).model_validate({**self.model_dump(), **given})
        except ValidationError as exc:
            raise _error(exc, given, from_environment=False) from None

    @property
    def tuned_folder(self) -> Path | None:
        """The folder `QA_TUNED` names (None for `off`); whether it holds anything is
        `qa.answering.tuned.load_tuned`'s to check."""
        if self.tuned == "off":
            return None
        return PACKAGED_TUNED if self.tuned == "packaged" else Path(self.tuned).expanduser()

    @property
    def embedder_folder(self) -> str | None:
        """The embedder to load: `QA_EMBEDDER`, else the tuned folder's own embedder, else None
        (the packaged all-MiniLM-L6-v2)."""
        if self.embedder:
            return self.embedder
        folder = self.tuned_folder
        if folder is not None and not folder.is_dir():
            raise ModelError(
                f"QA_TUNED={self.tuned}: no such folder (give a folder `qa tune` wrote, `packaged` or `off`)."
            )
        if folder is not None and (folder / TUNED_EMBEDDER).is_dir():
            return str(folder / TUNED_EMBEDDER)
        return None

    def fingerprint(self) -> str:
        """Short stable hash, stored on every answer to trace it to its configuration."""
        data = {name: str(getattr(self, name)) for name in type(self).model_fields if name != "n_threads"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def variable(name: str) -> str:
    """The environment variable of a setting: `top_k` -> `QA_TOP_K`."""
    return f"{PREFIX}{name.upper()}"


def default_of(name: str) -> object:
    """A setting's default as written in the code (a computed default: None)."""
    field = Settings.model_fields[name]
    return field.default if field.default_factory is None else None


def _error(exc: ValidationError, given: dict[str, object], from_environment: bool) -> SettingsError:
    """The first problem, in the user's words: where the value came from, the value, what is allowed."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    if name in given or not from_environment:
        where, value = name, given.get(name)
    else:
        where = environment_name(name) or variable(name)
        value = os.environ.get(where, "").strip()
    return SettingsError(f"{where}={value!r} is not valid: expected {allowed(name)}")


def environment_name(name: str) -> str | None:
    """The variable that sets `name` in this environment (names are read in any case), if any."""
    found = (key for key, value in os.environ.items() if key.upper() == variable(name) and value.strip())
    return next(found, None)


class _TrimmedEnvironment(EnvSettingsSource):
    """`QA_*` variables with surrounding spaces trimmed; a blank one means "the default"."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        return {
            k: v.strip() if isinstance(v, str) else v for k, v in values.items()
            if not (isinstance(v, str) and not v.strip())
        }  # fmt: skip


def allowed(name: str) -> str:
    """What a setting accepts, in words, from its type and bounds."""
    field = Settings.model_fields[name]
    limits = [m for m in field.metadata if isinstance(m, Ge | Le)]
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in limits}
    base = field.annotation
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(base))
    kinds = {int: "an integer", float: "a number", Path: "a folder path", str: "text"}
    given = [a for a in typing.get_args(base) if a is not type(None)]
    if len(given) == 1 and given[0] in (int, float):  # a number or unset: the default says what unset means
        base = given[0]
    kind = kinds.get(base, "text or nothing")  # type: ignore[arg-type]
    if "Ge" in bounds and "Le" in bounds:
        return f"{kind} from {bounds['Ge']} to {bounds['Le']}"
    if "Ge" in bounds:
        return f"{kind} of at least {bounds['Ge']}"
    return kind


def settings_markdown() -> str:
    """Every setting as a Markdown table: `docs/configuration.md` is this text (a test checks it)."""
    rows = [
        "# Configuration",
        "",
        "Every setting is an environment variable (`QA_<NAME>`), read once at start-up and validated:",
        "a bad value stops the CLI and the app with one line naming it (exit status 2), and an unknown",
        "`QA_*` name is refused with the list below. The Python API takes the same names as options",
        "(`ask(question, top_k=3)`, `Assistant(settings=Settings.from_env(min_support=0.2))`).",
        "`qa settings` prints the values in effect; `qa settings --markdown` writes this page.",
        "",
        "| variable | default | accepts | what it does |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = (field.default_factory.__doc__ or "").strip().rstrip(".")
        else:
            default = "unset" if field.default is None else f"`{field.default}`"
        rows.append(f"| `{variable(name)}` | {default} | {allowed(name)} | {field.description} |")
    rows += ["", "The browser app also reads `QA_AUTH` (`USER:PASSWORD`, see `app.py --help`).", ""]
    return "\n".join(rows)
