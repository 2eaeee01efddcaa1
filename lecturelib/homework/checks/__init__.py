"""The checks, one module per homework set (plus :mod:`.compare`, shared by all).

Every module here is imported and the names in its ``__all__`` are the checks ``lecturelib.homework`` offers, so a
new set's checks are one new module (``checks/<topic>.py`` with ``__all__``); nothing else needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in _module.__all__:
        if _name in globals():
            raise ImportError(f"two check modules define {_name!r} (the second is {_module.__name__})")
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)

__all__.sort()
