"""The scoring path reuses llama.cpp's KV cache through llama-cpp-python internals: these tests
fail when a new llama-cpp-python release changes what that path relies on."""

import math

import pytest

from qa.models.constrained import phrase_trie
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


def test_an_extracted_answer_is_a_phrase_of_the_sentences(generator: Generator) -> None:
    sentences = ["Mayor Ana Ortiz opened the Old Mill bridge in Riverton."]
    phrase, logprob = generator.extract(PROMPT, sentences, 12)
    assert "Ana Ortiz" in phrase and phrase.strip() in sentences[0] and -5 < logprob < 0
    # Sentences that do not hold what the model would write: it still writes only their phrases.
    elsewhere = ["Storm Ada hit Port Elric on Tuesday.", "About 12,000 homes lost power."]
    phrase, unlikely = generator.extract(PROMPT, elsewhere, 12)
    assert phrase.strip() and any(phrase.strip() in s for s in elsewhere)
    assert unlikely < logprob  # the model wanted that phrase far less
    # Extraction leaves the model as it found it: free generation after it is unchanged.
    assert generator.complete(PROMPT, 6, stop=["\n"]) == Generator().complete(PROMPT, 6, stop=["\n"])


def test_the_phrase_trie_holds_every_phrase_from_a_word_start(generator: Generator) -> None:
    llm = generator.llm

    def tokenize(text: str) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    sentence = "Storm Ada brought winds of 140 km/h to “Port Elric” on Tuesday."
    trie = phrase_trie(tokenize, [sentence], 4)

    def paths(node: dict, prefix: list[int]) -> list[list[int]]:
        return [prefix] if not node else [p for t, child in node.items() for p in paths(child, prefix + [t])]

    phrases = [llm.detokenize(path).decode("utf-8") for path in paths(trie, [])]
    assert all(p.startswith(" ") and p[1:] in sentence for p in phrases)
    assert any(p.startswith(" Port Elric") for p in phrases) and any(p.startswith(" 140") for p in phrases)
    assert not any(p.startswith(" orm") or p.startswith(" lric") for p in phrases)  # not mid-word
