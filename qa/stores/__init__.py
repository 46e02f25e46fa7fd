"""Where indexes live: the store interface (`base`), what every store writes (`batch`), the
embedded FAISS + BM25 segments (`local`) and Qdrant (`qdrant`). `open_store` picks one from the
settings; `add_articles` is the one way articles enter an index, for every caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.stores.base import IngestReport, SearchIndex, Store

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.ingest.readers import ReadResult
    from qa.models.embedder import TextEncoder

__all__ = ["IngestReport", "SearchIndex", "Store", "add_articles", "index_names", "open_store"]


def open_store(settings: Settings, name: str | None = None) -> Store:
    """The store the settings choose (`QA_STORE`), for index `name` (default: settings.index)."""
    name = name or settings.index
    if settings.store == "qdrant":
        from qa.stores.qdrant import QdrantStore

        return QdrantStore.from_settings(settings, name)
    from qa.stores.local.index import IndexStore

    return IndexStore(settings.index_dir, name)


def index_names(settings: Settings) -> list[str]:
    """The indexes of the configured store."""
    if settings.store == "qdrant":
        from qa.stores.qdrant import QdrantStore

        return QdrantStore.names(settings)
    from qa.stores.local.index import list_indexes

    return list_indexes(settings.index_dir)


def add_articles(
    store: Store, read: ReadResult, embedder: TextEncoder, settings: Settings, *,
    rebuild: bool = False, progress: bool = True,
) -> IngestReport:  # fmt: skip
    """Index what was read (files, uploads, a pack's corpus): the one ingest the CLI, the app,
    the eval and the assistant share. The report starts with what reading skipped or noted; a
    new index is chunked as the settings say, an existing one keeps its own chunking."""
    return store.ingest(
        read.articles, embedder, settings.chunk_chars, settings.chunk_overlap,
        rebuild=rebuild, progress=progress, report=IngestReport.of(read),
    )  # fmt: skip
