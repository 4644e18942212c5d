"""The formats `export` writes, by name alone: the CLI's parser offers them without loading the
writers (core/results/exports.py) and the views behind them."""

from __future__ import annotations

from core.domain.errors import InvalidInput

FORMATS = ("csv", "json")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}: use csv or json")
    return fmt
