import sys
from pathlib import Path

# Make tests/factories.py importable as `factories` from every test folder.
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny random chat model saved to a folder (transformers and torch required)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_lm import build_tiny_chat_model

    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-model"))
