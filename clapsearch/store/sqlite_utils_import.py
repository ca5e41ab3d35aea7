"""Import sqlite-utils without the pandas it imports whenever pandas is installed.

sqlite-utils imports pandas at import time only to convert pandas values in inserts, which the
store never makes. Where pandas is installed (Ray Data brings it, with pyarrow), that import cost
every command about 0.4 s and 70 MB (measured). Hiding pandas for that one import keeps both;
pandas stays importable for everything else in the process.
"""

from __future__ import annotations

import sys


def import_sqlite_utils():
    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        import sqlite_utils

        return sqlite_utils
    sys.modules["pandas"] = None  # `import pandas` raises ImportError while this is set
    try:
        import sqlite_utils
    finally:
        del sys.modules["pandas"]
    return sqlite_utils
