"""Memory the process has freed, given back to the system (glibc), where the C library can.

glibc keeps what a program frees in its heap for the next allocation; `malloc_trim(0)`
returns the whole free pages to the system. Elsewhere (musl, macOS, Windows) both calls
here do nothing and say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


@cache
def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim, mallopt = libc.malloc_trim, libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have none
        return None
    trim.argtypes = [ctypes.c_size_t]
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc


def can_trim() -> bool:
    return _glibc() is not None


def malloc_trim() -> bool:
    """Give the free pages of every heap back to the system; False where it cannot.
    (A ctypes call: the interpreter lock is released meanwhile.)"""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def set_mmap_threshold(nbytes: int) -> bool:
    """Blocks of `nbytes` and more are mapped on their own, unmapped when freed; a fixed
    threshold (glibc otherwise raises it to the largest block freed)."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, nbytes))
