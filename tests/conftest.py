import os
import sys
from pathlib import Path

# Ray on loopback only (REFERENCE.md §9): read once, when Ray is first imported, so it is set here.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

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
