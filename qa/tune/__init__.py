"""`qa tune`: learn parts of the pipeline from question packs (past news quizzes)."""

PARTS = ("evidence", "reader", "candidates")  # in pipeline order: each is trained on the ones before
READS = (
    8,
    12,
    16,
)  # passages whose sentences the evidence ranker reads, tried (`data.POOL_PASSAGES` at most)
