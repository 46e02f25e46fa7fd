"""A decision becomes an `Answer`, in one place: its text with `[n]` markers (a quoted sentence
in quotation marks), the cited sentences, each an exact sentence of an indexed article with its
title, source and date, and what was searched and considered on the way.
"""

from __future__ import annotations

from qa.answering.answer import ABSTAIN_TEXT, Answer, Citation
from qa.answering.decide import Decision
from qa.answering.question import QuestionForm
from qa.answering.retrieve import Evidence, Retrieval


def answer_for(
    form: QuestionForm, retrieval: Retrieval, decision: Decision, *, raw_output: str | None, model: str,
    index: str, settings_hash: str, answer_mode: str = "choose",
) -> Answer:  # fmt: skip
    """The answer to show: the decision's text and citations, or the abstention and its reason;
    `raw_output` and `model` say what the model wrote (None and "" when it was not asked)."""
    answer = Answer(
        question=form.text,
        text=ABSTAIN_TEXT,
        abstained=True,
        answer_type=form.answer_type.value,
        retrieved=[hit.chunk.id for hit in retrieval.chunks],
        searched=[e.text for e in retrieval.evidence],
        considered=[c.text for c in decision.candidates],
        index=index,
        settings_hash=settings_hash,
        support=round(decision.support, 4),
        answer_score=decision.score,
        answer_logprob=None if decision.logprob is None else round(decision.logprob, 4),
        answer_logprob_waived=decision.logprob_waived,
        reason=decision.reason,
        raw_output=raw_output or "",
        model=model,
        answer_mode=answer_mode,
    )
    if decision.kind != "abstain":
        answer.citations = citations_for(retrieval.sentences, decision.cited)
        shown = f"“{decision.text}”" if decision.kind == "sentence" else decision.text
        answer.text = answer_text(shown, answer.citations)
        answer.abstained = False
        answer.kind = decision.kind
    return answer


def citations_for(evidence: list[Evidence], positions: list[int]) -> list[Citation]:
    """Citations numbered 1..n in the order given; every one an exact article sentence."""
    citations = []
    for marker, position in enumerate(positions, start=1):
        e = evidence[position]
        start, end = e.span
        citations.append(
            Citation(
                marker=marker,
                sentence=e.article.text[start:end],
                title=e.article.title,
                source=e.article.source,
                published=e.article.published,
                start=start,
                end=end,
                score=round(e.score, 4),
                article_id=e.article.id,
                sentence_index=e.sentence_index,
            )
        )
    return citations


def answer_text(phrase: str, citations: list[Citation]) -> str:
    markers = " ".join(f"[{c.marker}]" for c in citations)
    return f"{phrase} {markers}".strip()
