"""The answer decision, in one place: question form -> candidates -> scores -> answer or abstention.

Everything here works on `Retrieval.sentences` positions, which are stable for one question:
a candidate, a citation and the model's grounded phrase all point into that one list.

The policy:
1. No evidence sentence carries enough of the question's key terms (`min_support`): abstain.
2. Why / how / what-happened questions are answered by the best evidence sentence, quoted.
3. Otherwise the candidates (entities and noun phrases of the evidence, and the model's own
   phrase when a sentence carries it; none that only restates the question) that fit the
   question's answer type are scored by the model's likelihood of each as the answer after the
   prompt it answered (all the evidence, so no second prompt is read), how often the evidence
   repeats it, whether the model wrote it, how well its kind fits, how many of its words the
   question already says, and whether its sentence states it in the verb argument the question
   asks for ("Which union opposes the repairs?": "The Dockworkers Union opposes the repair
   plan": same verb, negated as in the question, same other argument). No candidate of a
   fitting kind: the best sentence answers instead. A question of no answer type that asks for
   a verb's argument ("What does the plan try to protect?") is typed by that grammar: only the
   phrases a sentence states there compete.
4. The chosen phrase is withheld when its sentence is off the question (`min_support`) or
   the model finds it unlikely as the answer (`min_answer_logprob`): on the packs the model's
   likelihood of its best candidate tells answerable questions from unanswerable ones better
   than the ranking score, whose repetition feature measures salience, not answerability.
   For a question of no answer type, a phrase its sentence states in the asked verb argument is
   not withheld for the model's doubt (the 270M model often prefers its own paraphrase), nor is a
   number its sentence states as the count a "how many" question asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qa.answering.candidates import Candidate, candidates, descriptions
from qa.answering.ground import Grounded, ground
from qa.answering.question import AnswerType, QuestionForm
from qa.answering.rank import Judge, Weights, rank
from qa.answering.retrieve import Evidence, Retrieval
from qa.config import EXTRACT_MIN_ANSWER_LOGPROB, MODEL_MIN_ANSWER_LOGPROB, Settings, default_of
from qa.text.normalize import contains_phrase

# Candidates the model judges: the model's own phrase, then those of the best-ranked sentences.
# 20 answers as 40 did on dev and val, with half the model calls; short-listing by the features
# that cost nothing (repetition, type fit) instead of sentence order lost 3 of 67 dev questions.
MAX_JUDGED = 20


@dataclass
class Decision:
    kind: Literal["phrase", "sentence", "abstain"]
    text: str = ""
    cited: list[int] = field(default_factory=list)  # positions in Retrieval.sentences
    score: float | None = None
    # The model's log-probability of the chosen phrase, or of one of its short forms if higher
    # (a short form is the same entity, see `rank`); None when the model did not judge.
    logprob: float | None = None
    # The phrase's sentence states it where the question asks, so the model's doubt does not
    # withhold it (`Policy.gate`).
    logprob_waived: bool = False
    support: float = 0.0
    reason: str = ""
    # Ranked; only the first one's likelihood and score are exact (`rank`: the others may
    # show the upper bound at which the model stopped reading them).
    candidates: list[Candidate] = field(default_factory=list)


AnswerMode = Literal["choose", "generate", "extract"]
NO_EVIDENCE = "no sentence is about the question"
OFF_QUESTION = "the sentence carrying the answer is off the question"
UNLIKELY = "the model finds no candidate likely enough"


@dataclass(frozen=True)
class Policy:
    """The settings the decision reads (defaults are those of `qa.config.Settings`), and the
    abstain gate they make: `about` and `gate` are the one home of the rule that decides
    whether evidence can answer."""

    min_support: float = default_of("min_support")  # type: ignore[assignment]
    min_answer_logprob: float = MODEL_MIN_ANSWER_LOGPROB
    answer_mode: AnswerMode = "choose"  # "generate" / "extract": keep the model's phrase only
    weights: Weights = Weights()

    @classmethod
    def from_settings(
        cls, settings: Settings, answer_mode: AnswerMode | None = None, weights: Weights | None = None,
        calibrated: float | None = None,
    ) -> Policy:  # fmt: skip
        """`answer_mode`: the mode in use (`Assistant.answer_mode`), which `auto` leaves to the model;
        `weights`: the candidate ranker's (`qa.answering.tuned`), else the hand-set ones;
        `calibrated`: the likelihood threshold of the tuned reader in use (`qa tune` calibrates it:
        the adapter makes the model surer of what it copies), used when the setting is unset."""
        mode = answer_mode or ("choose" if settings.answer_mode == "auto" else settings.answer_mode)
        threshold = settings.min_answer_logprob
        if threshold is None and mode == "extract":
            threshold = EXTRACT_MIN_ANSWER_LOGPROB  # a restricted answer's, not a candidate's
        elif threshold is None:
            threshold = MODEL_MIN_ANSWER_LOGPROB if calibrated is None else calibrated
        return cls(settings.min_support, threshold, mode, weights or Weights())

    def about(self, sentence: Evidence) -> bool:
        """The sentence (with its title) carries enough of the question's key terms to answer it."""
        return sentence.support >= self.min_support

    def gate(
        self, retrieval: Retrieval, cited: int | None = None, logprob: float | None = None,
        waived: bool = False,
    ) -> str | None:  # fmt: skip
        """Why the assistant must abstain, or None. Every question passes it before the model is
        asked (`cited` None: is any evidence sentence about the question?), and every phrase
        once chosen (`cited`, its position in `retrieval.sentences`: is its sentence about the
        question, and does the model find it likely enough? `waived`: a phrase its sentence
        states in the asked verb argument, or the count a "how many" question asks for, is not
        withheld for the model's doubt)."""
        if cited is None:
            return None if any(self.about(e) for e in retrieval.evidence) else NO_EVIDENCE
        if not self.about(retrieval.sentences[cited]):
            return OFF_QUESTION
        if logprob is not None and logprob < self.min_answer_logprob and not waived:
            return UNLIKELY
        return None

    def asks_model(self, form: QuestionForm, retrieval: Retrieval) -> bool:
        """The model is asked for a phrase only when the gate lets the question through and the
        question wants a phrase (an explanation is a sentence, a description is read off the
        sentences' grammar)."""
        return form.wants_phrase and self.gate(retrieval) is None


def decide(
    form: QuestionForm, retrieval: Retrieval, raw_output: str | None, judge: Judge | None, policy: Policy,
    output_logprob: float | None = None,
) -> Decision:  # fmt: skip
    """Answer, quote or abstain. `raw_output` is what the model wrote (None when it was not
    asked: no evidence, or an explanation question); `judge` scores candidate phrases;
    `output_logprob`: the model's log-probability of `raw_output` (`extract` mode), gated
    like a chosen candidate's."""
    evidence = retrieval.evidence
    if (reason := policy.gate(retrieval)) is not None:
        return Decision("abstain", support=retrieval.best_support, reason=reason)
    if form.answer_type is AnswerType.EXPLANATION:
        return _sentence_answer(retrieval, policy, "the question asks for an explanation")
    if form.answer_type is AnswerType.DESCRIPTION:
        return _description(form.focus or "", retrieval, policy)

    sentences = retrieval.sentences
    generated = ground(raw_output or "", sentences)
    if policy.answer_mode != "choose":
        if generated is None:
            return Decision(
                "abstain", support=retrieval.best_support, reason="the model's phrase is not in the articles"
            )
        return _phrase(generated.phrase, generated.supporting[:1], None, output_logprob, retrieval, policy)

    shortlist = contenders(form, retrieval, generated)
    if not shortlist.candidates:
        return _sentence_answer(retrieval, policy, f"no {form.answer_type.value} in the evidence")
    ranked = rank(shortlist.candidates, form, [e.text for e in evidence], policy.weights, judge)
    best = ranked[0]
    judged = judge is not None and policy.weights.logprob != 0
    logprob = best.features["logprob"] if judged else None
    score = round(best.score, 4)
    # A number its sentence states as the count asked for ("How many jobs will Acme cut?": "Acme
    # will cut 300 jobs") is not withheld for the model's doubt either.
    counted = form.slot is not None and form.slot.counted is not None and best.features["stated"] > 0
    decision = _phrase(
        best.text, [best.sentence], score, logprob, retrieval, policy, stated=shortlist.stated or counted
    )
    decision.candidates = ranked
    return decision


@dataclass
class Shortlist:
    """The candidates the model judges, and whether they are only those a sentence states in the
    asked verb argument (`stated`)."""

    candidates: list[Candidate]
    stated: bool = False


def contenders(form: QuestionForm, retrieval: Retrieval, generated: Grounded | None) -> Shortlist:
    """The candidates of the evidence (and the model's grounded phrase) that can answer `form`,
    the model's phrase first, at most `MAX_JUDGED`."""
    sentences = retrieval.sentences
    texts = {p: sentences[p].text for p in range(len(retrieval.evidence))}
    written = None
    if generated is not None:
        written = (generated.phrase, generated.supporting[0])
        texts.setdefault(generated.supporting[0], sentences[generated.supporting[0]].text)
    typed = candidates(form, texts, written)
    # A question of no answer type is typed by its grammar: "What does the plan try to protect?"
    # is answered by what a sentence says the plan protects, however unlikely the model finds it.
    # For a typed question, stating the asked argument is one feature among the others.
    fillers = [c for c in typed if c.fills_slot] if form.answer_type is AnswerType.ANY else []
    # The model's own phrase first, then the others in the order the evidence first names them
    # (a candidate re-cited where a later sentence states it keeps its place).
    return Shortlist(sorted(fillers or typed, key=lambda c: not c.generated)[:MAX_JUDGED], bool(fillers))


def _phrase(
    text: str, cited: list[int], score: float | None, logprob: float | None,
    retrieval: Retrieval, policy: Policy, *, stated: bool = False,
) -> Decision:  # fmt: skip
    """The phrase answers unless the gate withholds it (`stated`: see `Policy.gate`)."""
    support = retrieval.sentences[cited[0]].support
    reason = policy.gate(retrieval, cited[0], logprob, waived=stated)
    if reason == OFF_QUESTION:
        return Decision("abstain", support=support, reason=reason)
    if reason is not None:
        return Decision("abstain", score=score, logprob=logprob, support=support, reason=reason)
    return Decision("phrase", text, cited, score, logprob, stated, support)


def _description(name: str, retrieval: Retrieval, policy: Policy) -> Decision:
    """What the best-ranked evidence sentence that names `name` and says what it is says (its
    longest description, `descriptions`), else the best sentence naming it, quoted. Grammar, not
    the model, reads it: a small model asked "Who is Ana Ruiz?" names another person."""
    evidence = retrieval.evidence
    about = [p for p, e in enumerate(evidence) if policy.about(e) and contains_phrase(e.text, name)]
    found = descriptions([evidence[p].text for p in about], name)
    for position, phrases in zip(about, found, strict=True):
        if phrases:
            return Decision("phrase", max(phrases, key=len), [position], support=evidence[position].support)
    if about:  # what the articles say of it, quoted
        reason = f"no sentence says what {name} is in a phrase"
        return Decision(
            "sentence", evidence[about[0]].text, [about[0]], support=evidence[about[0]].support, reason=reason
        )
    return Decision("abstain", support=retrieval.best_support, reason=f"no sentence names {name}")


def _sentence_answer(retrieval: Retrieval, policy: Policy, reason: str) -> Decision:
    """The best-ranked evidence sentence that is about the question answers it, quoted."""
    for position, e in enumerate(retrieval.evidence):
        if policy.about(e):
            return Decision("sentence", e.text, [position], support=e.support, reason=reason)
    return Decision("abstain", support=retrieval.best_support, reason=NO_EVIDENCE)
