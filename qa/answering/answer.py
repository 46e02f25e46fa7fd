"""The answer as data: text with `[n]` markers, the exact sentences they point to, and provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ABSTAIN_TEXT = "The indexed articles do not answer this question."


@dataclass
class Citation:
    """One exact sentence of an indexed article: `article.text[start:end] == sentence`."""

    marker: int
    sentence: str
    title: str
    source: str
    published: str | None
    start: int
    end: int
    score: float
    article_id: str = ""
    sentence_index: int = -1


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    # Share of the question's key terms carried by the sentence cited for the answer (with its
    # title), or by the best evidence sentence when there is no answer. Below `min_support` the
    # assistant abstains (without asking the model when even the best sentence is below it).
    support: float = 0.0
    # The chosen answer's ranking score ("choose" mode), for tracing and calibration.
    answer_score: float | None = None
    # The model's log-probability of the chosen phrase (or of a short form of it, if higher):
    # below `min_answer_logprob` the phrase is withheld.
    answer_logprob: float | None = None
    # The phrase's sentence states it where the question asks, so the threshold does not apply.
    answer_logprob_waived: bool = False
    # What the question asks for (qa.answering.question.AnswerType) and how it was answered:
    # "phrase" (a short span of the cited sentence) or "sentence" (the cited sentence itself).
    answer_type: str = ""
    kind: str = "abstain"
    # Why the assistant abstained or quoted a sentence instead of a phrase (from `qa.answering.decide`).
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # Provenance: what was searched and what produced the answer.
    retrieved: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    # The candidate phrases the decision ranked, best first: what else the evidence offered
    # (empty when no phrase was chosen among candidates).
    considered: list[str] = field(default_factory=list)
    model: str = ""
    answer_mode: str = ""  # "choose", "generate" or "extract" (QA_ANSWER_MODE)
    index: str = ""
    settings_hash: str = ""
    raw_output: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [self.text]
        if self.abstained and self.reason:
            lines.append(f"({self.reason[0].upper()}{self.reason[1:]}.)")
        if self.citations:
            lines.append("")
            lines.append("Sources:")
            for c in self.citations:
                dated = f", {c.published}" if c.published else ""
                lines.append(f'[{c.marker}] "{c.sentence}"')
                lines.append(f"    {c.title} ({c.source}{dated})")
        return "\n".join(lines)
