"""`qa tune`: learn parts of the pipeline from question packs (past news quizzes)."""
