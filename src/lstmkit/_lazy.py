"""A package's names imported from its modules on first use (PEP 562), so that importing the package costs
nothing until one of them is used: `import lstmkit` and the command line's start need no torch, pandas or
scikit-learn, and each command imports what it uses when it uses it."""

from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable]:
    """The `__getattr__` and `__dir__` of `package`, whose names live in its modules: `exports` maps a module
    ('.lstm') to the names it gives. A name is imported on first use, then kept as a plain attribute."""
    where = {name: module for module, names in exports.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str):
        if name not in where:  # a submodule not imported yet, or a name the package does not have
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
