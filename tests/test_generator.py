"""The scoring path reuses llama.cpp's KV cache through llama-cpp-python internals: these tests
fail when a new llama-cpp-python release changes what that path relies on."""

import math

import pytest

from qa.models.generator import Generator

PROMPT = (
    "Sentences:\n- Mayor Ana Ortiz opened the Old Mill bridge in Riverton.\n"
    "Question: Who opened the bridge?\nAnswer:"
)
OTHER = "Sentences:\n- Storm Ada hit Port Elric on Tuesday.\nQuestion: Which storm hit Port Elric?\nAnswer:"
CANDIDATES = ["Ana Ortiz", "Riverton", "the Old Mill bridge"]


@pytest.fixture(scope="module")
def generator() -> Generator:
    return Generator()


def test_cached_scoring_equals_fresh_scoring(generator: Generator) -> None:
    fresh = Generator().score_continuations(PROMPT, CANDIDATES)
    generator.score_continuations(OTHER, ["Storm Ada"])  # leaves another prompt in the cache
    generator.complete(OTHER, 4)
    cached = generator.score_continuations(PROMPT, CANDIDATES)
    again = generator.score_continuations(PROMPT, CANDIDATES)
    assert all(math.isfinite(x) and x < 0 for x in fresh)
    # llama.cpp's numbers depend on batch shape (a prompt read whole, or only its last token
    # re-read): measured up to 0.13 nat on a three-token candidate with 0.3.36. A broken cache
    # (stale positions, logits of another token) is off by whole nats.
    assert cached == pytest.approx(fresh, abs=0.25) and again == pytest.approx(fresh, abs=0.25)


def test_generation_after_scoring_is_unchanged(generator: Generator) -> None:
    before = Generator().complete(PROMPT, 6, stop=["\n"])
    generator.score_continuations(PROMPT, CANDIDATES)
    assert generator.complete(PROMPT, 6, stop=["\n"]) == before


def test_the_answer_in_the_sentence_is_more_likely_than_a_distractor(generator: Generator) -> None:
    name, place, _ = generator.score_continuations(PROMPT, CANDIDATES)
    assert name > place


def test_scoring_with_a_bonus_reads_only_what_can_win(generator: Generator) -> None:
    texts = ["Ana Ortiz", "Mayor Ana Ortiz of Riverton", "the Old Mill bridge in Riverton", "Riverton"]
    bonus = [0.0, 0.0, -5.0, 0.0]
    generator.score_continuations(PROMPT, texts)  # both calls below then re-read only the last token
    exact = generator.score_continuations(PROMPT, texts)
    pruned = generator.score_continuations(PROMPT, texts, bonus)
    best = max(range(len(texts)), key=lambda i: bonus[i] + exact[i])
    assert max(range(len(texts)), key=lambda i: bonus[i] + pruned[i]) == best
    assert pruned[best] == exact[best]
    # The others are the log-probability of as much as was read: never below the exact one.
    assert all(p >= e for p, e in zip(pruned, exact, strict=True))
    assert any(p > e + 0.5 for p, e in zip(pruned, exact, strict=True))  # something was cut short
