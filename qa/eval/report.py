"""report.md with a plot: per-pack accuracy and the latency distribution."""

from __future__ import annotations

from pathlib import Path

KEYS = [
    "n", "n_answerable", "answer_accuracy", "token_f1", "evidence_recall_at_5",
    "gold_in_evidence", "choice_ceiling", "citation_support", "citation_precision", "citation_recall",
    "answer_rate_answerable", "abstain_rate_unanswerable", "latency_p50_s", "latency_p95_s",
    "mean_answer_words",
]  # fmt: skip


def metrics_table(metrics: dict) -> str:
    """Markdown table: one row per pack, then the total."""
    header = "| pack | " + " | ".join(KEYS) + " |"
    lines = [header, "|" + "---|" * (len(KEYS) + 1)]
    rows = [*metrics.get("packs", {}).items(), ("**all**", metrics)]
    for name, values in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(values.get(k)) for k in KEYS) + " |")
    return "\n".join(lines)


def write_report(metrics: dict, rows: list[dict], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    packs = metrics.get("packs", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(packs)
    left.bar(names, [packs[n]["answer_accuracy"] or 0 for n in names], color="#3b7dd8")
    left.set_ylim(0, 1)
    left.set_title("answer accuracy per pack")
    left.tick_params(axis="x", rotation=30)
    right.hist([r["latency_s"] for r in rows], bins=20, color="#e08a2c")
    right.set_title("latency per question (s)")
    fig.tight_layout()
    fig.savefig(out_dir / "report.png", dpi=110)
    plt.close(fig)

    wrong = [r for r in rows if r["answerable"] and not r["verdict"]["correct"]]
    lines = [
        "# Evaluation report",
        "",
        f"Model: {metrics.get('model')}; settings {metrics.get('settings_hash')}.",
        "",
        metrics_table(metrics),
        "",
        "![accuracy and latency](report.png)",
        "",
        _misses(wrong),
        "",
        "## Missed answerable questions (first 30)",
        "",
        "| id | question | gold | answer |",
        "|---|---|---|---|",
    ]
    for r in wrong[:30]:
        question = r["question"].replace("|", "/")[:120]
        lines.append(f"| {r['id']} | {question} | {', '.join(r['gold'])} | {r['answer']} |")
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _misses(wrong: list[dict]) -> str:
    """Where the missed answerable questions were lost: retrieval, candidates or the choice."""
    verdicts = [r["verdict"] for r in wrong]
    offered = sum(v["choice_ceiling"] for v in verdicts)
    # The model's own phrase may come from a sentence beyond the evidence: it counts as offered.
    unread = sum(not v["gold_in_evidence"] and not v["choice_ceiling"] for v in verdicts)
    return (
        f"Of {len(wrong)} missed answerable questions, the gold answer is in none of the evidence"
        f" sentences for {unread}; it is in them but no candidate for {len(wrong) - unread - offered};"
        f" a candidate that was not chosen (or was withheld) for {offered}."
    )


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
