"""Replacing a function of the projects domain for one test, wherever the code looks it up."""

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def replace_function(monkeypatch, home: ModuleType, name: str, replacement: Callable[..., Any]) -> None:
    """Set `home.name` to `replacement`, and every module of `projects` that bound the same
    function under that name (a view or selector that imported it by name), so a test patches
    the function at its home module and reaches every caller however it imports it."""
    original = getattr(home, name)
    monkeypatch.setattr(home, name, replacement)
    for module in list(sys.modules.values()):
        if module is home or not getattr(module, "__name__", "").startswith("projects."):
            continue
        if getattr(module, name, None) is original:
            monkeypatch.setattr(module, name, replacement)
