"""The guard against tests that need what a fresh CI machine lacks (see tests/external.py)."""

import os
import re
import sys
import tempfile
from pathlib import Path

from tests import external

REPO = Path(__file__).resolve().parent.parent


def ci_apt_packages() -> set[str]:
    match = re.search(r'^APT_PACKAGES="([^"]*)"', (REPO / ".ci" / "run").read_text(), re.M)
    assert match, ".ci/run must list its Debian packages in APT_PACKAGES"
    return set(match.group(1).split())


def test_ci_installs_every_declared_debian_package():
    needed = {package for package, _ in external.DECLARED.values()}
    assert needed <= ci_apt_packages()


def test_places_inside_are_allowed():
    assert not external.is_outside(REPO / "README.md")
    assert not external.is_outside(os.path.join(tempfile.gettempdir(), "x.wav"))
    assert not external.is_outside(os.__file__)  # the standard library
    assert not external.is_outside(sys.executable)
    assert not external.is_outside(3)  # an open descriptor


def test_undeclared_system_files_and_home_are_outside_and_declared_ones_are_not():
    assert external.is_outside("/usr/share/doc/bash/copyright")
    assert external.is_outside(os.path.expanduser("~/.config/some-tool/settings.ini"))
    assert external.is_outside("/opt/data/sounds/dog.wav")
    assert not external.is_outside("/usr/share/dict/words")


def test_programs_are_resolved_on_the_path():
    assert external.program_of("subprocess.Popen", (None, ["ls", "-l"], None, None)) == "ls"
    assert external.program_of("subprocess.Popen", ("/bin/sh", ["sh"], None, None)) == "/bin/sh"
    assert external.is_outside(external.resolve_program("ls"))


def test_the_hook_fails_a_test_that_reads_outside(pytester):
    pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(REPO)!r})\npytest_plugins = ['tests.guard']\n")
    pytester.makepyfile(test_reads="""
        import os

        def test_reads_declared_and_allowed_files(tmp_path):
            open(os.__file__).close()  # the standard library
            (tmp_path / "x").write_text("x")
            os.stat("/usr/share/doc")  # a stat is not an open
            external_words = "/usr/share/dict/words"
            if os.path.exists(external_words):
                open(external_words).close()

        def test_reads_an_undeclared_file():
            try:
                open("/usr/share/doc/no-such-package/README").close()
            except OSError:
                pass  # even a failed open counts: the test depends on what is there

        def test_runs_an_undeclared_program():
            import subprocess
            subprocess.run(["true"], check=True)
        """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*opened /usr/share/doc/no-such-package/README*Declare it*"])
    result.stdout.fnmatch_lines(["*ran */true*Declare it*"])
