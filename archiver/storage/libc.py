"""The C library, for the few Linux calls Python's ``os`` lacks (prctl, renameat2)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: this module is on every command's import path
if TYPE_CHECKING:
    import ctypes


def libc() -> ctypes.CDLL | None:
    """The process's C library on Linux (``dlopen(NULL)``: no ``find_library``, which runs
    ``ldconfig`` in a subprocess), with errno kept; None on other systems."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def errno_value() -> int:
    """The errno of the last ``libc()`` call in this thread."""
    import ctypes

    return ctypes.get_errno()
