"""Opening an index must not drag in pandas (sqlite-utils imports it when it is installed)."""

import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")

PROBE = """
import sys
from clapsearch.store.store import Store
with Store({path!r}) as store:
    with store.writer():
        store.add_indexed_roots(['/music'])
    assert store.indexed_roots() == ['/music']
assert "pandas" not in sys.modules, "opening a store imported pandas"
import sqlite_utils.db
assert sqlite_utils.db.pd is None
import pandas  # still importable afterwards
print("ok")
"""


def test_opening_a_store_does_not_import_pandas(tmp_path):
    code = PROBE.format(path=str(tmp_path / "index.db"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
