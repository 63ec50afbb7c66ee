"""Benchmarks write their tables into README.md between `<!-- bench:NAME -->` markers."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def replace_block(readme: Path, name: str, table: str) -> None:
    text = readme.read_text()
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if start not in text:
        sys.exit(f"{readme}: no {start} block to replace")
    block = f"{start}\n{table}\n{end}"
    readme.write_text(re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S))


def verdict(ok: bool) -> str:
    """How a target line reads: "met" or "not met"."""
    return "met" if ok else "not met"
