"""The spend CSV parser moved to :mod:`projects.analysis.spend_csv`, its home; this re-export keeps the old import
path working until its callers import the new one."""

from projects.analysis.spend_csv import (
    ALIASES,
    MAX_BYTES,
    MAX_ROWS,
    MAX_SPEND,
    OPTIONAL,
    REQUIRED,
    LineError,
    SpendRow,
    parse,
)

__all__ = ["ALIASES", "MAX_BYTES", "MAX_ROWS", "MAX_SPEND", "OPTIONAL", "REQUIRED", "LineError", "SpendRow", "parse"]
