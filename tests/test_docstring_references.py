"""The docstrings name only modules, classes and functions that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import cornerstore

PACKAGE = Path(cornerstore.__file__).parent
# A Sphinx cross-reference to a fully qualified name: :func:`cornerstore.storage.open_store`.
REFERENCE = re.compile(r":(?:func|class|mod|meth|data|attr|exc):`~?(cornerstore(?:\.\w+)+)`")


def _resolves(name: str) -> bool:
    """Whether ``name`` is a module, or an attribute reached from the longest importable one."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: ModuleType | object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_qualified_name_in_a_docstring_exists() -> None:
    references = {
        (str(path.relative_to(PACKAGE)), name)
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        for name in REFERENCE.findall(path.read_text(encoding="utf-8"))
    }

    missing = sorted((path, name) for path, name in references if not _resolves(name))

    assert len(references) > 20
    assert missing == []
