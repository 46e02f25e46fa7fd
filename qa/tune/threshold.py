"""Calibrate the likelihood threshold for a tuned reader.

The assistant withholds a phrase the model finds unlikely (`min_answer_logprob`, -6.75 for the
packaged model). A reader adapter makes the model surer of what it copies, answerable or not,
so at the model's threshold it abstains far less often. Its own threshold is set on the
held-out weeks: the least strict one at which it abstains on their unanswerable questions at
least as often as the model alone does at its threshold. Accuracy is then compared at the
operating point the project chose, not bought with abstentions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.answering.assistant import Assistant
from qa.answering.decide import Policy
from qa.answering.tuned import TunedParts
from qa.config import Settings
from qa.errors import ModelError
from qa.eval.metrics import is_correct
from qa.eval.run import Pack, ensure_index

NO_THRESHOLD = -1e9  # answers are recorded without the threshold, then replayed with each one
STEP = 0.25  # thresholds tried: 0, -0.25, -0.5, ... down to LOWEST
LOWEST = -20.0


@dataclass(frozen=True)
class Outcome:
    """One held-out question answered without a likelihood threshold."""

    answerable: bool
    abstained: bool
    correct: bool
    # The model's log-probability of the phrase given, when a threshold would apply to it
    # (a phrase its sentence states where the question asks is not withheld; see `decide`).
    logprob: float | None


def outcomes(packs: list[Pack], assistant: Assistant) -> list[Outcome]:
    """Every question of `packs` answered by `assistant` (built with
    `min_answer_logprob=NO_THRESHOLD`)."""
    results = []
    for pack in packs:
        assistant.use_index(ensure_index(pack, assistant.settings, assistant.embedder))
        for q in pack.questions:
            a = assistant.ask(q.question)
            gated = a.kind == "phrase" and a.answer_logprob is not None and not a.answer_logprob_waived
            results.append(
                Outcome(
                    q.answerable, a.abstained, is_correct(a.text, q.answers, a.abstained),
                    a.answer_logprob if gated else None,
                )
            )  # fmt: skip
    return results


def withheld(o: Outcome, threshold: float) -> bool:
    """The threshold withholds the phrase `o` gave."""
    return o.logprob is not None and o.logprob < threshold


def scores(results: list[Outcome], threshold: float) -> dict:
    """Right answers, answer rate and abstention on unanswerable questions at `threshold`."""
    answerable = [o for o in results if o.answerable]
    unanswerable = [o for o in results if not o.answerable]
    return {
        "threshold": threshold,
        "right": sum(o.correct and not withheld(o, threshold) for o in answerable),
        "answerable": len(answerable),
        "answer_rate": _share([not (o.abstained or withheld(o, threshold)) for o in answerable]),
        "abstention": _share([o.abstained or withheld(o, threshold) for o in unanswerable]),
    }


def matched_threshold(base: list[Outcome], adapted: list[Outcome], base_threshold: float) -> float | None:
    """The least strict threshold (0 and down in `STEP`s, to `LOWEST`) at which `adapted`
    abstains on the unanswerable questions at least as often as `base` does at `base_threshold`
    (0 if none does); None without unanswerable questions to calibrate on."""
    target = scores(base, base_threshold)["abstention"]
    if target is None:
        return None
    chosen = 0.0
    for step in range(int(-LOWEST / STEP) + 1):
        if scores(adapted, -step * STEP)["abstention"] < target:
            break
        chosen = -step * STEP
    return chosen


def calibrate(packs: list[Pack], settings: Settings, parts: TunedParts) -> dict:
    """The reader's threshold, from the held-out `packs` answered with `parts` with and without
    its reader; returns it with both sides' scores for the card."""
    base_threshold = Policy.from_settings(settings).min_answer_logprob  # the model alone's
    free = settings.replace(min_answer_logprob=NO_THRESHOLD)
    with_reader = Assistant(settings=free, tuned=parts)
    if with_reader.reader is None or with_reader.answer_mode != "choose":
        raise ModelError(
            "The reader's threshold is calibrated on the model it was trained for, in process and "
            "in `choose` mode: a model server (QA_LLM_URL) or QA_ANSWER_MODE=generate cannot tune it."
        )
    base = outcomes(packs, Assistant(settings=free, tuned=replace(parts, reader=None)))
    adapted = outcomes(packs, with_reader)
    threshold = matched_threshold(base, adapted, base_threshold)
    return {
        "min_answer_logprob": threshold,
        "model_alone": scores(base, base_threshold),
        "reader_at_model_threshold": scores(adapted, base_threshold),
        "reader_at_own_threshold": scores(adapted, base_threshold if threshold is None else threshold),
    }


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None
