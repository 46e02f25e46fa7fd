"""Sub-command `tune`."""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.tune import PARTS, READS


def add_commands(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser(
        "tune",
        help="learn the embedder, the evidence ranker, the reader adapter and the candidate ranker from "
        "question packs (past quizzes)",
    )
    tune.add_argument("--packs", type=Path, nargs="+", required=True,
                      help="packs (corpus + questions .jsonl) or folders of them, a week each")  # fmt: skip
    tune.add_argument(
        "--out", type=Path, required=True, help="folder for the tuned parts (QA_TUNED=that folder)"
    )
    tune.add_argument("--holdout", type=int, default=6, help="the last N weeks are held out (default 6)")
    tune.add_argument("--exclude", type=Path, nargs="*", default=[],
                      help="packs whose questions must not be trained on (evaluation sets)")  # fmt: skip
    tune.add_argument("--read", type=int, nargs="+", default=list(READS),
                      help="passages whose sentences are ranked: values tried (8 12 16)")  # fmt: skip
    tune.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="what to train (default: all; the reader takes about an hour on two cores)",
    )
    tune.add_argument(
        "--embedder-epochs", type=int, default=3, help="passes over the embedder's examples (3)"
    )
    tune.add_argument("--reader-epochs", type=int, default=1, help="passes over the reader's examples (1)")
    tune.add_argument("--reader-restart", action="store_true",
                      help="warm up and decay the reader's learning rate within each epoch, so that a "
                      "finished run given more --reader-epochs goes on from its checkpoint")  # fmt: skip
    tune.add_argument(
        "--cache", type=Path, default=None, help="where examples are kept (default: user cache)"
    )
    tune.add_argument("--seed", type=int, default=0)
    tune.set_defaults(run=_tune)


def _tune(args: argparse.Namespace) -> int:
    from qa.errors import IngestError
    from qa.tune.data import POOL_PASSAGES
    from qa.tune.embedder import EmbedderRecipe
    from qa.tune.reader import ReaderRecipe
    from qa.tune.run import card_markdown, run_tune

    for name in ("reader_epochs", "embedder_epochs"):
        if getattr(args, name) < 1:
            raise IngestError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    if not all(1 <= read <= POOL_PASSAGES for read in args.read):
        raise IngestError(f"--read takes passage counts from 1 to {POOL_PASSAGES}, not {args.read}")

    card = run_tune(
        args.packs,
        args.out,
        args.holdout,
        args.exclude,
        tuple(args.parts),
        seed=args.seed,
        reads=tuple(args.read),
        cache=args.cache,
        reader_recipe=ReaderRecipe(
            epochs=args.reader_epochs, restart_each_epoch=args.reader_restart, seed=args.seed
        ),
        embedder_recipe=EmbedderRecipe(epochs=args.embedder_epochs, seed=args.seed),
    )
    print(card_markdown(card))
    if not any(part.get("kept", True) for part in card["parts"].values()):
        print(f"wrote {args.out}/card.md: no part did better than the base on the held-out weeks")
        return 0
    print(f"wrote {args.out}: use it with QA_TUNED={args.out}")
    return 0
