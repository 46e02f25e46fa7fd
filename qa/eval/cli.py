"""Sub-commands `eval` and `bench` (filled in by the evaluation modules)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    return None
