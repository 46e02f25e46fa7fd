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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from qa.answering.candidates import Candidate, compatibility, descriptions, extract, label_of, restates
from qa.answering.cite import ground
from qa.answering.question import AnswerType, QuestionForm
from qa.answering.retrieve import Retrieval
from qa.config import Settings
from qa.text.normalize import contains_phrase, normalize, words

# (candidate texts, bonus or None) -> the model's log-probability of each as its answer to the
# evidence prompt; with a bonus only the best bonus + log-probability must be exact
# (`Generator.score_continuations`).
Judge = Callable[[list[str], list[float] | None], list[float]]

# Candidates the model judges: the model's own phrase, then those of the best-ranked sentences.
# 20 answers as 40 did on dev and val, with half the model calls; short-listing by the features
# that cost nothing (repetition, type fit) instead of sentence order lost 3 of 67 dev questions.
MAX_JUDGED = 20


@dataclass(frozen=True)
class Weights:
    """How the candidate features add up. Chosen on the dev and val packs together."""

    logprob: float = 0.5
    repeated: float = 2.0
    generated: float = 2.0
    fit: float = 2.0
    asked: float = 2.0
    stated: float = 3.0  # its sentence states it in the verb argument the question asks for


@dataclass
class Decision:
    kind: Literal["phrase", "sentence", "abstain"]
    text: str = ""
    cited: list[int] = field(default_factory=list)  # positions in Retrieval.sentences
    score: float | None = None
    # The model's log-probability of the chosen phrase, or of one of its short forms if higher
    # (a short form is the same entity, see `rank`); None when the model did not judge.
    logprob: float | None = None
    support: float = 0.0
    reason: str = ""
    # Ranked; only the first one's likelihood and score are exact (`rank`: the others may
    # show the upper bound at which the model stopped reading them).
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    """The settings the decision reads; defaults are those of `qa.config.Settings`."""

    min_support: float = Settings.min_support
    min_answer_logprob: float = Settings.min_answer_logprob
    answer_mode: str = Settings.answer_mode  # "choose" or "generate" (keep the model's phrase only)
    weights: Weights = Weights()

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(settings.min_support, settings.min_answer_logprob, settings.answer_mode)


def decide(
    form: QuestionForm,
    question: str,
    retrieval: Retrieval,
    raw_output: str | None,
    judge: Judge | None,
    policy: Policy,
) -> Decision:
    """Answer, quote or abstain. `raw_output` is what the model wrote (None when it was not
    asked: no evidence, or an explanation question); `judge` scores candidate phrases."""
    evidence = retrieval.evidence
    if not evidence or retrieval.best_support < policy.min_support:
        return Decision("abstain", support=retrieval.best_support, reason="no sentence is about the question")
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
        return _phrase(generated.phrase, generated.supporting[:1], None, None, retrieval, policy)

    texts = {p: sentences[p].text for p in range(len(evidence))}
    if generated is not None:
        texts.setdefault(generated.supporting[0], sentences[generated.supporting[0]].text)
    candidates = extract(texts, question, form.slot)
    if generated is not None:
        _add_generated(candidates, generated.phrase, generated.supporting[0], texts, question)
    typed = []
    for c in candidates:
        fit = compatibility(form, c.label, c.text)
        if fit is not None:
            c.fit = fit
            typed.append(c)
    if not typed:
        return _sentence_answer(retrieval, policy, f"no {form.answer_type.value} in the evidence")
    # A question of no answer type is typed by its grammar: "What does the plan try to protect?"
    # is answered by what a sentence says the plan protects, however unlikely the model finds it.
    # For a typed question, stating the asked argument is one feature among the others.
    fillers = [c for c in typed if c.fills_slot] if form.answer_type is AnswerType.ANY else []
    evidence_texts = [e.text for e in evidence]
    # The model's own phrase first, then the others in the order the evidence first names them
    # (a candidate re-cited where a later sentence states it keeps its place).
    typed = sorted(fillers or typed, key=lambda c: not c.generated)[:MAX_JUDGED]
    ranked = rank(typed, question, evidence_texts, policy.weights, judge)
    best = ranked[0]
    judged = judge is not None and policy.weights.logprob != 0
    logprob = best.features["logprob"] if judged else None
    score = round(best.score, 4)
    # A number its sentence states as the count asked for ("How many jobs will Acme cut?": "Acme
    # will cut 300 jobs") is not withheld for the model's doubt either.
    counted = form.slot is not None and form.slot.counted is not None and best.features["stated"] > 0
    decision = _phrase(
        best.text, [best.sentence], score, logprob, retrieval, policy, stated=bool(fillers) or counted
    )
    decision.candidates = ranked
    return decision


def rank(
    candidates: list[Candidate], question: str, evidence: list[str], weights: Weights,
    judge: Judge | None = None,
) -> list[Candidate]:  # fmt: skip
    """Order candidates by their weighted features. A short form of a longer candidate
    ("Biden" of "Joe Biden") is the same entity: its evidence counts for the longer form, each
    sentence once, and the model judges the entity by its likeliest form (`Candidate.forms`).
    The model's likelihood, the one costly feature, comes last, told what the rest already
    gives each text so that only the winner's must be read to the end (others may show an
    upper bound)."""
    asked = set(words(question))
    texts = [words(c.text) for c in candidates]
    mentions = [
        {i for i, sentence in enumerate(evidence) if contains_phrase(sentence, c.text)} for c in candidates
    ]
    groups: list[tuple[Candidate, list[int], float]] = []
    for i, candidate in enumerate(candidates):
        if any(_is_short_form(texts[i], other) for other in texts):
            continue  # counted with its long form
        group = [j for j, other in enumerate(texts) if j == i or _is_short_form(other, texts[i])]
        candidate.features = {
            # Each sentence naming the entity counts once, by any of its forms.
            "repeated": sum(1.0 / (1 + k) for k in set().union(*(mentions[j] for j in group))),
            "generated": float(any(candidates[j].generated for j in group)),
            "fit": candidate.fit,
            "asked": -sum(t in asked for t in texts[i]) / max(1, len(texts[i])),
            "stated": float(any(candidates[j].fills_slot for j in group)),
        }
        rest = sum(getattr(weights, name) * value for name, value in candidate.features.items())
        groups.append((candidate, group, rest))
    if judge is not None and weights.logprob != 0:
        bonus: dict[str, float] = {}  # per text: the most the other features give a group it is in
        for _, group, rest in groups:
            for j in group:
                for text in (candidates[j].text, *candidates[j].forms):
                    bonus[text] = max(bonus.get(text, float("-inf")), rest / weights.logprob)
        judged = list(bonus)
        # The early stop bounds a likelihood that is rewarded; a negative weight needs them all.
        bounds = [bonus[t] for t in judged] if weights.logprob > 0 else None
        logprobs = dict(zip(judged, judge(judged, bounds), strict=True))
        for c in candidates:
            c.logprob = max(logprobs.get(text, c.logprob) for text in (c.text, *c.forms))
    for candidate, group, rest in groups:
        candidate.features["logprob"] = max(candidates[j].logprob for j in group)
        candidate.score = rest + weights.logprob * candidate.features["logprob"]
    return sorted((c for c, _, _ in groups), key=lambda c: -c.score)


def _add_generated(
    candidates: list[Candidate], phrase: str, position: int, texts: dict[int, str], question: str
) -> None:
    """Mark the candidate the model wrote, or add its phrase with the kind it has in its sentence.
    A phrase that only restates the question is no answer, whoever wrote it ("Which country is
    Acme's biggest buyer?" is not answered "Acme")."""
    if restates(question, phrase):
        return
    key = normalize(phrase)
    for candidate in candidates:
        if normalize(candidate.text) == key:
            candidate.generated = True
            return
    if key:
        candidates.append(Candidate(phrase, position, label_of(phrase, texts[position]), generated=True))


def _phrase(
    text: str, cited: list[int], score: float | None, logprob: float | None,
    retrieval: Retrieval, policy: Policy, *, stated: bool = False,
) -> Decision:  # fmt: skip
    """The phrase answers unless its sentence is off the question or the model finds it
    unlikely; `stated` (a question of no answer type answered by a phrase its sentence states in
    the verb argument the question asks for, see `slot_fillers`, or a "how many" question by the
    count its sentence states) waives the model's doubt."""
    support = retrieval.sentences[cited[0]].support
    if support < policy.min_support:
        return Decision(
            "abstain", support=support, reason="the sentence carrying the answer is off the question"
        )
    if logprob is not None and logprob < policy.min_answer_logprob and not stated:
        return Decision(
            "abstain", score=score, logprob=logprob, support=support,
            reason="the model finds no candidate likely enough",
        )  # fmt: skip
    return Decision("phrase", text, cited, score, logprob, support)


def _description(name: str, retrieval: Retrieval, policy: Policy) -> Decision:
    """What the best-ranked evidence sentence that names `name` and says what it is says (its
    longest description, `descriptions`), else the best sentence naming it, quoted. Grammar, not
    the model, reads it: a small model asked "Who is Ana Ruiz?" names another person."""
    evidence = retrieval.evidence
    about = [
        p for p, e in enumerate(evidence) if e.support >= policy.min_support and contains_phrase(e.text, name)
    ]
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
        if e.support >= policy.min_support:
            return Decision("sentence", e.text, [position], support=e.support, reason=reason)
    return Decision("abstain", support=retrieval.best_support, reason="no sentence is about the question")


def _is_short_form(short: list[str], full: list[str]) -> bool:
    """`short` ends the name `full`: a surname ("Solberg" of "Mira Solberg"), a name without its
    title ("Mira Solberg" of "Mayor Mira Solberg"). A pair ("Nevada and Oregon") is no long form."""
    if not short or len(short) >= len(full) or len(full) > 6 or "and" in full:
        return False
    return full[-len(short) :] == short
