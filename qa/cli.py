"""Command line: `python -m qa ingest|ask|delete|compact|indexes|settings|eval|bench|tune`. Translates
errors into messages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from qa.errors import QAError

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.ingest.readers import ReadResult
    from qa.models.embedder import TextEncoder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="add .txt/.md/.html/.jsonl files or folders")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--index", default=None, help="index name (default: seeds)")
    ingest.add_argument("--rebuild", action="store_true", help="start the index from scratch")
    ingest.add_argument("--ray", action="store_true", help="read, split and embed on Ray")
    ingest.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    ingest.add_argument("--workers", type=int, default=2, help="embedding actors on Ray (default 2)")
    ingest.set_defaults(run=_ingest)

    ask = commands.add_parser("ask", help="answer a question from an index")
    ask.add_argument("question")
    ask.add_argument("--index", default=None)
    ask.add_argument("--top-k", type=int, default=None)
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--since", default=None, help="only articles published on or after this day (2024-05-01)"
    )
    ask.set_defaults(run=_ask)

    delete = commands.add_parser("delete", help="remove articles (by source path/URL or id) from an index")
    delete.add_argument("articles", nargs="+", help="the source an article was ingested from, or its id")
    delete.add_argument("--index", default=None)
    delete.set_defaults(run=_delete)

    compact = commands.add_parser("compact", help="merge an index's segments (ingests do this when needed)")
    compact.add_argument("--index", default=None)
    compact.set_defaults(run=_compact)

    listing = commands.add_parser("indexes", help="list the indexes and their sizes")
    listing.set_defaults(run=_indexes)

    shown = commands.add_parser("settings", help="the QA_* settings in effect")
    shown.add_argument("--markdown", action="store_true", help="every setting as docs/configuration.md")
    shown.set_defaults(run=_settings)

    from qa.eval.cli import add_commands
    from qa.tune.cli import add_commands as add_tune_command

    add_commands(commands)
    add_tune_command(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        from qa.config import Settings

        Settings.from_env()  # every QA_* value checked before any work starts
        return args.run(args) or 0
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was committed before is kept", file=sys.stderr)
        return 130


def _ingest(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.ingest.readers import read_paths
    from qa.models.embedder import Embedder

    settings = Settings.from_env(index=args.index)
    if not args.ray:
        return _write(args, settings, read_paths(args.paths), Embedder.from_settings(settings))
    from qa.ingest.on_ray import RayEncoder, ray_session, read_paths_on_ray

    with ray_session(args.address, args.workers):
        embedder = Embedder.from_settings(settings)  # exports the ONNX model once, for the actors too
        encoder = RayEncoder(embedder, args.workers)
        return _write(args, settings, read_paths_on_ray(args.paths), encoder)


def _write(args: argparse.Namespace, settings: Settings, result: ReadResult, encoder: TextEncoder) -> int:
    from qa.stores import add_articles, open_store

    for message in result.skipped:
        print(f"warning: {message}", file=sys.stderr)
    for message in result.notes:
        print(f"note: {message}", file=sys.stderr)
    report = add_articles(open_store(settings), result, encoder, settings, rebuild=args.rebuild)
    print(f"index '{settings.index}': {report.summary()}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from qa.answering.assistant import get_assistant

    assistant = get_assistant(index=args.index, top_k=args.top_k)
    if assistant.settings.llm_url:  # say how a model server is used (QA_ANSWER_MODE)
        print(f"# {assistant.generator.name}: answer mode {assistant.answer_mode} "
              f"({assistant.answer_mode_reason})", file=sys.stderr)  # fmt: skip
    answer = assistant.ask(args.question, since=args.since)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer)
    return 0


def _delete(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.stores import open_store

    settings = Settings.from_env(index=args.index)
    removed = open_store(settings).delete(args.articles)
    missing = len(args.articles) - len(removed)
    print(f"index '{settings.index}': {len(removed)} removed" + (f", {missing} not found" if missing else ""))
    return 0 if removed else 1


def _compact(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.stores import open_store

    settings = Settings.from_env(index=args.index)
    store = open_store(settings)
    store.compact()
    manifest = store.read_manifest()
    counts = manifest["counts"]
    print(f"index '{settings.index}': 1 segment, {counts['articles']} articles, {counts['chunks']} chunks")
    return 0


def _indexes(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.stores import index_names, open_store

    settings = Settings.from_env()
    if settings.store == "qdrant":
        print(f"# Qdrant: {settings.qdrant_url or settings.qdrant_path}", file=sys.stderr)
    else:
        where = "QA_INDEX_DIR" if os.environ.get("QA_INDEX_DIR") else "default"
        print(f"# index folder: {settings.index_dir} ({where})", file=sys.stderr)
    for name in index_names(settings):
        manifest = open_store(settings, name).read_manifest()
        counts = manifest["counts"]
        print(f"{name}\t{counts['articles']} articles\t{counts['chunks']} chunks\t{manifest['updated']}")
    return 0


def _settings(args: argparse.Namespace) -> int:
    from qa.config import Settings, environment_name, settings_markdown, variable

    if args.markdown:
        print(settings_markdown(), end="")
        return 0
    settings = Settings.from_env()
    for name in type(settings).model_fields:
        source = "set" if environment_name(name) else "default"
        print(f"{variable(name)}={getattr(settings, name)}\t({source})")
    return 0
