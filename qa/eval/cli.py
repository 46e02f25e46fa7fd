"""Sub-commands `eval` and `bench`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    ev = commands.add_parser("eval", help="score the assistant on question packs")
    ev.add_argument("packs", nargs="*", type=Path, help="folders with corpus.jsonl + questions.jsonl")
    ev.add_argument("--questions", type=Path, help="a questions.jsonl (with --corpus)")
    ev.add_argument("--corpus", type=Path, nargs="+", help="files/folders to index for --questions")
    ev.add_argument("--report", type=Path, required=True, help="output folder")
    ev.add_argument("--limit", type=int, default=None, help="questions per pack")
    ev.add_argument("--top-k", type=int, default=None)
    ev.set_defaults(run=_eval)

    bench = commands.add_parser("bench", help="measure indexing, retrieval and answer speed")
    bench.add_argument("--pack", type=Path, default=None, help="a pack folder to benchmark on")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"))
    bench.add_argument("--sizes", default="10000,100000,1000000", help="synthetic index sizes")
    bench.add_argument("--scale", default=None, help="index sizes N,N,... from --pack")
    bench.add_argument("--recall", type=Path, nargs="+", default=None, metavar="PACK",
                       help="IVF recall@10 vs exact search on the packs' passages and questions")  # fmt: skip
    bench.add_argument("--soak", action="store_true", help="concurrent API clients against the app")
    bench.add_argument("--clients", type=int, default=8, help="with --soak: concurrent clients")
    bench.add_argument("--questions", type=int, default=25, help="with --soak: questions per client")
    bench.add_argument("--url", default=None, help="with --soak: a running app (default: start one)")
    bench.set_defaults(run=_bench)


def _eval(args: argparse.Namespace) -> int:
    from qa.config import Settings
    from qa.errors import IngestError
    from qa.eval.report import metrics_table
    from qa.eval.run import Pack, load_pack, load_questions, run_eval

    packs = [load_pack(p) for p in args.packs]
    if args.questions:
        if not args.corpus:
            raise IngestError("--questions needs --corpus PATH (what to index)")
        packs.append(Pack(args.questions.stem, list(args.corpus), load_questions(args.questions)))
    if not packs:
        raise IngestError("Give pack folders, or --questions Q.jsonl --corpus PATH")
    metrics = run_eval(packs, args.report, Settings.from_env(top_k=args.top_k), args.limit)
    print(metrics_table(metrics))
    print(f"\nwrote {args.report}/metrics.json, results.jsonl, report.md")
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.soak:
        return _soak(args)
    if args.recall:
        from qa.eval.bench import ivf_recall

        results = ivf_recall(args.recall)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))
        return 0
    if args.scale:
        from qa.eval.scale import run_scale

        results = run_scale(args.pack, [int(s) for s in args.scale.split(",") if s])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(results["table"])
        print(f"\nwrote {args.out}")
        return 0
    from qa.eval.bench import run_bench

    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = run_bench(args.pack, sizes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(results["table"])
    print(f"\nwrote {args.out}")
    return 0


def _soak(args: argparse.Namespace) -> int:
    from qa.eval.soak import run_soak, soak_table

    out = args.out if args.out != Path("reports/bench.json") else Path("reports/soak.json")
    results = run_soak(args.url, args.clients, args.questions)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(soak_table(results))
    print(f"\nwrote {out}")
    return 0 if results["errors"] == 0 else 1
