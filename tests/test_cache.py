"""engines.cache: the L2 cache size read as Linux reports it, and the size assumed where it does not."""

from __future__ import annotations

import pytest

from fwdback.engines import cache


@pytest.mark.parametrize("text, size", [("1024K", 1 << 20), ("32M", 32 << 20), ("512", 512), ("2G", 2 << 30)])
def test_sizes_are_read_in_linuxs_units(text, size):
    assert cache.size_in_bytes(text) == size


def write_cache(root, index: int, level: int, kind: str, size: str) -> None:
    directory = root / f"index{index}"
    directory.mkdir()
    for name, value in (("level", level), ("type", kind), ("size", size)):
        (directory / name).write_text(f"{value}\n")


def test_the_l2_is_the_level_2_data_or_unified_cache_among_cpu0s(tmp_path, monkeypatch):
    write_cache(tmp_path, 0, 1, "Data", "48K")
    write_cache(tmp_path, 1, 1, "Instruction", "32K")
    write_cache(tmp_path, 2, 2, "Unified", "1280K")
    write_cache(tmp_path, 3, 3, "Unified", "48M")
    monkeypatch.setattr(cache.glob, "glob", lambda pattern: [str(path) for path in tmp_path.iterdir()])
    assert cache.l2_bytes.__wrapped__() == 1280 << 10


def test_without_a_description_the_l2_is_assumed(monkeypatch):
    monkeypatch.setattr(cache.glob, "glob", lambda pattern: [])
    assert cache.l2_bytes.__wrapped__() == cache.ASSUMED_L2_BYTES
