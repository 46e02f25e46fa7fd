"""What is known of each sentence read closely, and the two ways of scoring it."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answering.evidence_rank import (
    FEATURES,
    HAND_RANKER,
    UNFINISHED_PENALTY,
    LinearRanker,
    sentence_features,
)
from qa.answering.question import classify
from qa.errors import ModelError

TEXTS = [
    "Engineer Mira Solberg led the restoration of the Lindqvist bridge.",
    "The work took 14 months and cost 3 million crowns.",
    "Bridge reopens",
]
KEYS = [("a", 0), ("a", 1), ("b", 0)]


def _features(question: str) -> dict[str, np.ndarray]:
    rows = sentence_features(
        classify(question), {"lindqvist": 3.0, "bridg": 1.0, "restor": 2.0}, KEYS, TEXTS,
        ["Tallport news", "Tallport news", "Bridge reopens"], np.array([0.6, 0.3, 0.5]),
        np.array([0.7, 0.4, 0.5]), [0, 0, 3],
    )  # fmt: skip
    return {name: rows[:, i] for i, name in enumerate(FEATURES)}


def test_features_say_what_each_sentence_carries() -> None:
    f = _features("How many months did the restoration of the Lindqvist bridge take?")
    assert f["support"][0] == pytest.approx(1.0) and f["support"][1] == 0.0
    assert list(f["unfinished"]) == [0.0, 0.0, 1.0]
    assert f["passage_rank"][2] == pytest.approx(1 / 4) and f["position"][1] == pytest.approx(1 / 2)
    # A "how many" question asks for a number: only the sentence with one has it.
    assert list(f["number_asked"]) == [0.0, 1.0, 0.0] and list(f["name_asked"]) == [0.0, 0.0, 0.0]
    # The sentence after the one that matches the question has a matching neighbour.
    assert f["neighbour_support"][1] == pytest.approx(1.0) and f["neighbour_support"][2] == 0.0
    assert f["article_support"][1] == pytest.approx(1.0)
    assert f["similarity_to_best"][0] == 0.0 and f["similarity_to_best"][1] == pytest.approx(-0.3)
    assert _features("Who led the restoration of the Lindqvist bridge?")["name_asked"][0] > 0


def test_the_hand_rule_is_similarities_plus_support_less_a_penalty_for_unfinished_lines() -> None:
    f = _features("Who led the restoration of the Lindqvist bridge?")
    scores = HAND_RANKER.score(np.column_stack([f[name] for name in FEATURES]))
    expected = f["similarity"] + f["titled_similarity"] + f["support"] - UNFINISHED_PENALTY * f["unfinished"]
    assert scores == pytest.approx(expected)


def test_a_linear_ranker_scores_standardised_features_and_round_trips(tmp_path) -> None:  # noqa: ANN001
    n = len(FEATURES)
    ranker = LinearRanker(tuple([1.0] + [0.0] * (n - 1)), tuple([0.5] * n), tuple([0.25] * n), bias=1.0)
    rows = np.zeros((2, n))
    rows[:, 0] = [0.5, 1.0]
    assert list(ranker.score(rows)) == [1.0, 3.0]
    ranker.save(tmp_path / "r.json", read=12)
    loaded = LinearRanker.load(tmp_path / "r.json")
    assert loaded.weights == ranker.weights and loaded.bias == 1.0
    (tmp_path / "r.json").write_text(
        '{"features": ["similarity"], "weights": [1], "mean": [0], "scale": [1], "bias": 0}'
    )
    with pytest.raises(ModelError, match="other features"):
        LinearRanker.load(tmp_path / "r.json")
