"""Browser chat over the indexed news articles: `python app.py [--host H] [--port P] [--share]`."""

from __future__ import annotations

import argparse
import logging

from qa.assistant import Assistant
from qa.ui import launch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="create a public Gradio link")
    parser.add_argument("--index", default=None, help="index to ask (default: seeds)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch(Assistant(index=args.index), args.host, args.port, args.share)


if __name__ == "__main__":
    main()
