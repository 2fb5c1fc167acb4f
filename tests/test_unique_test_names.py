"""Test modules are collected by basename (rootdir-relative, no packages): two files with
the same name in different folders stop the whole collection. Keep them unique."""

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert not [n for n, c in names.items() if c > 1]
