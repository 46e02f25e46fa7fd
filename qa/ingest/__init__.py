"""Ingest: files (text, Markdown, HTML, JSONL) read into articles split into sentences; on one
machine (`readers`) or as Ray tasks (`on_ray`)."""
