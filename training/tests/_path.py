import sys
from pathlib import Path

# Tests run as `python -m unittest discover -s training/tests` from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
