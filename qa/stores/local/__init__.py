"""The embedded store (`QA_STORE=faiss`, the default): FAISS, bm25s and SQLite segments under
`indexes/<name>/`, written atomically; no server."""
