"""Accuracy of the gender estimated from the measured pitch (``labels.gender_from_pitch``) on every
espeak-ng voice variant that declares a gender, in three languages.

    .venv/bin/python scripts/evaluate_gender.py

The truth is the variant's declared gender (``espeak-ng --voices=variant``); the estimate is
``labels.normalize.gender_from_f0`` of the clip's measured median F0 (``features.pitch``).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "features"))

from speech_fixtures import SR, espeak  # noqa: E402

from speechsift.features.pitch import measure_pitch  # noqa: E402
from speechsift.labels.normalize import gender_from_f0  # noqa: E402

SENTENCE = "The weather is nice today and we will walk to the park."
LANGUAGES = ("en-us", "de", "fr")
DECLARED = {"M": "male", "F": "female"}


def variants() -> list[tuple[str, str]]:
    """(variant file name, declared gender) for every espeak-ng variant with M or F."""
    lines = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    out = []
    for line in lines.splitlines()[1:]:
        fields = line.split()
        declared = DECLARED.get(fields[2].split("/")[-1])
        if declared:
            out.append((fields[-1].rsplit("/", 1)[-1], declared))
    return out


def main() -> None:
    outcomes: Counter = Counter()
    wrong = []
    for name, declared in variants():
        for language in LANGUAGES:
            f0 = measure_pitch(espeak(SENTENCE, voice=f"{language}+{name}"), SR)["f0_median_hz"]
            estimate = gender_from_f0(f0)
            outcomes[(declared, estimate)] += 1
            if estimate != declared:
                wrong.append(f"{language}+{name} ({declared}, {f0:.0f} Hz -> {estimate})")
    total = sum(outcomes.values())
    right = sum(n for (declared, estimate), n in outcomes.items() if declared == estimate)
    print(f"{right}/{total} clips right ({right / total:.1%}); by (declared, estimated): {dict(outcomes)}")
    print("wrong:", "; ".join(wrong))


if __name__ == "__main__":
    main()
