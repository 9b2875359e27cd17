"""Build the hostile releases the trainer checks read (``hostile_release``), with speechsift's own
environment: ``moved`` (OUT moved after the run; the corpus's files by absolute path, the bytes-only
clips under OUT/audio by relative path) and ``self-contained`` (``output.copy_audio``, OUT moved,
the corpus deleted, the release copied elsewhere: every path relative).

    python make_release.py DIR      # prints the two release folders, one per line
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: hostile_release, factories, servers

from hostile_release import build_release  # noqa: E402


def main(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "moved").mkdir(parents=True)
    (folder / "self-contained").mkdir(parents=True)
    moved = build_release(folder / "moved")
    contained = build_release(folder / "self-contained", copy_audio=True)
    copy = folder / "self-contained" / "release"
    shutil.copytree(contained, copy)
    shutil.rmtree(contained)
    print(moved)
    print(copy)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
