import sys
from pathlib import Path

# Make tests/factories.py importable as `factories` from every test folder.
sys.path.insert(0, str(Path(__file__).parent))
