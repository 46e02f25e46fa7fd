"""`qa tune`: learn parts of the pipeline from question packs (past news quizzes)."""

# In pipeline order: each is trained on what the ones before give.
PARTS = ("embedder", "evidence", "reader", "candidates")
READS = (
    8,
    12,
    16,
)  # passages whose sentences the evidence ranker reads, tried (`data.POOL_PASSAGES` at most)
