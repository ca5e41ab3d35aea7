import os
import secrets
import tempfile

import pytest

# Fails a test that touches what a fresh CI machine may lack (see tests/external.py).
pytest_plugins = ["tests.guard", "pytester"]

# The tests never read or write the user's home: caches, data and config go to a temporary folder
# (the guard in tests/guard.py fails a test that reads ~/.cache/huggingface/token, say).
_HOME = tempfile.mkdtemp(prefix="clapsearch-tests-")
for _variable, _folder in (("HF_HOME", "hf"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"),
                           ("XDG_CONFIG_HOME", "config")):
    os.environ[_variable] = os.path.join(_HOME, _folder)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Ray >= 2.60 protects a new local cluster with a token, generated into ~/.ray/auth_token unless one
# is given; give the tests' clusters a fresh one in the environment, so auth stays on and home untouched.
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory):
    """One model cache (ONNX exports, fingerprints) for the session, never the user's own."""
    os.environ["CLAPSEARCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="session")
def tiny_text_dir(tmp_path_factory):
    from tests.tiny_model import write_tiny_text_model

    return write_tiny_text_model(tmp_path_factory.mktemp("tiny-text"))


@pytest.fixture(scope="session")
def tiny_model(tiny_text_dir):
    """The test-only tiny CLAP, loaded once per session (deterministic weights)."""
    from tests.tiny_model import load_tiny

    return load_tiny(tiny_text_dir)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open an internet connection fails the test."""
    from tests.network import refuse_network

    refuse_network(monkeypatch)


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch, tiny_text_dir):
    """Point the default database at tmp_path and register the tiny model as `tiny` (hidden)."""
    from clapsearch.models import register, unregister
    from tests.tiny_model import load_tiny

    monkeypatch.setenv("CLAPSEARCH_DB", str(tmp_path / "index.db"))
    monkeypatch.delenv("CLAPSEARCH_MODEL", raising=False)
    register("tiny", lambda arg, name=None, device=None: load_tiny(tiny_text_dir, name=name or "tiny"),
             "test-only tiny random model", "tiny", hidden=True)
    yield
    unregister("tiny")

