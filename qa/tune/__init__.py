"""`qa tune`: learn parts of the pipeline from question packs (past news quizzes)."""

PARTS = ("evidence", "candidates")
READS = (
    8,
    12,
    16,
)  # passages whose sentences the evidence ranker reads, tried (`data.POOL_PASSAGES` at most)
