"""The processor's level-2 cache, as the operating system reports it: what the engines size their
blocks of rows by, so that a block's work arrays stay in cache on whatever processor runs them.

Linux describes each cache of cpu0 in /sys/devices/system/cpu/cpu0/cache/index*/ (its level, its
type and its size, "1024K"); where it does not (another system, a container without /sys), the
size is taken to be 1 MiB, a common L2 of a core: the results are the same, only the timing differs.
"""

from __future__ import annotations

import functools
import glob
import os

ASSUMED_L2_BYTES = 1 << 20
_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _read(path: str) -> str:
    with open(path, encoding="ascii") as stream:
        return stream.read().strip()


def size_in_bytes(text: str) -> int:
    """A cache size as Linux writes it ("1024K", "32M", "512") in bytes."""
    return int(text[:-1]) * _UNITS[text[-1]] if text[-1:] in _UNITS else int(text)


@functools.cache
def l2_bytes() -> int:
    """The level-2 data (or unified) cache of one core, in bytes; ASSUMED_L2_BYTES where unknown."""
    for directory in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            if _read(os.path.join(directory, "level")) == "2" and _read(os.path.join(directory, "type")) != "Instruction":
                size = size_in_bytes(_read(os.path.join(directory, "size")))
                if size > 0:
                    return size
        except (OSError, ValueError, KeyError):
            continue
    return ASSUMED_L2_BYTES
