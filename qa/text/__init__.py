"""Text the pipeline reads: sentences and passages, normalised words, search terms, dates,
spaCy parses and the place names of the gazetteer. No model, index or answer logic here."""
