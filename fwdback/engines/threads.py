"""One BLAS thread while an engine runs: the products of a small network are too small to share.

An engine's products have an inner dimension of k or H (a few) or are level-1 and level-2
reductions over a block of rows (r @ r, N @ r): OpenBLAS splits them over its threads, and on
a machine where another process keeps a core busy a split costs more than it gives (a dot
product of 65,536 doubles: 5 us on one thread, 0.7 to 4.6 ms on two). `one_blas_thread()`
limits the OpenBLAS that NumPy loaded to one thread while an epoch runs and gives the caller's
setting back after it, so the rest of the process keeps its threads.

It finds OpenBLAS among the libraries the process has mapped (Linux's /proc/self/maps) and
calls its own openblas_set_num_threads through ctypes, under any of the names the builds use
(NumPy's wheels prefix and suffix them: scipy_openblas_set_num_threads64_). Where there is no
OpenBLAS (Accelerate, MKL, a system without /proc) it does nothing: the results are the same,
only the timing differs.
"""

from __future__ import annotations

import contextlib
import ctypes

_PREFIXES = ("scipy_", "")
_SUFFIXES = ("64_", "", "_64")


def _openblas_functions():
    """(get_num_threads, set_num_threads) of the OpenBLAS NumPy loaded, or None."""
    import numpy  # noqa: F401 - NumPy loads its BLAS; find it after that

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    return get, set_
    return None


_functions: tuple | None | bool = False  # False: not looked for yet


def blas_functions():
    """The OpenBLAS thread functions, looked for once."""
    global _functions
    if _functions is False:
        _functions = _openblas_functions()
    return _functions


@contextlib.contextmanager
def one_blas_thread():
    """OpenBLAS on one thread inside the block; the thread count before it afterwards."""
    functions = blas_functions()
    if functions is None:
        yield
        return
    get, set_ = functions
    before = get()
    if before == 1:
        yield
        return
    set_(1)
    try:
        yield
    finally:
        set_(before)
