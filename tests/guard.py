"""A pytest plugin: fail a test that reads a file or starts a program outside the repository, the
temporary folders and the installed Python without declaring it in tests/external.py."""

import os
import sys

import pytest

from tests import external


_outside: list[str] | None = None  # what the running test touched outside; None between tests


def _audit(event, args):
    if _outside is None:
        return
    if event == "open":
        path = args[0]
        if external.is_outside(path):
            _outside.append(f"opened {os.fsdecode(path)}")
        return
    program = external.program_of(event, args)
    if program is not None:
        resolved = external.resolve_program(program)
        if resolved != sys.executable and external.is_outside(resolved):
            _outside.append(f"ran {resolved}")


sys.addaudithook(_audit)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _outside
    _outside = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    global _outside
    outcome = yield
    report = outcome.get_result()
    if call.when != "call":
        return
    touched, _outside = sorted(set(_outside or [])), None
    if touched and report.passed:
        report.outcome = "failed"
        report.longrepr = ("The test used something outside the repository, the temporary folders and the "
                           "installed Python without declaring it (a fresh CI machine may not have it): "
                           + "; ".join(touched[:10])
                           + ". Declare it with its Debian package in tests/external.py and install that "
                             "package in .ci/run, or ship what the test needs.")
