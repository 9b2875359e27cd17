"""Binning engine: numeric features (``Clip.features``) onto words (``Clip.meta``).

Two kinds of bins, one representation:

- **fixed thresholds** with a published source: the seed's pace and volume rules and a
  gender-relative pitch table derived from SIFT-50M (``FIXED_BINS``);
- **data-driven bins** fitted per dataset, as DataSpeech and SIFT-50M do: drop outliers outside
  ``mean +- k * std``, then cut the rest into equal-width (``np.histogram``'s edges, DataSpeech's
  choice) or equal-count (quantile) bins; pitch is fitted per gender (``BinSet.fit`` with
  ``SIFT_FIELDS``, the SIFT-50M vocabularies).

A ``Bins`` is one set of thresholds: ``labels`` (n words, low to high) and ``edges`` (n - 1 inner
edges). A value below the first edge gets the first label, above the last edge the last label
(DataSpeech clamps the same way), so values outside the fitted range still get the extreme word.
A value exactly on an edge goes to the bin nearer the middle label, which reproduces the seed's
rules exactly (slow < 6.0 <= normal <= 9.0 < fast; quiet < -16.4 <= normal <= -10.0 < loud).
A label may be None: a known level that meta leaves out (the seed omits normal volume).

``FieldBins`` binds a ``Bins`` (or one per gender) to the feature column it reads; ``BinSet`` maps
meta fields to ``FieldBins`` and round-trips through a versioned JSON file (``save_bins`` /
``load_bins``), so bins fitted on one dataset can label another.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from speechsift.errors import ConfigError
from speechsift.labels import tables

log = logging.getLogger(__name__)

BINS_FORMAT = "speechsift.bins"
BINS_FORMAT_VERSION = 1
METHODS = ("fixed", "equal_width", "quantile")
MIN_FIT_VALUES = 2  # fewer values than this cannot define a range

# --- vocabularies (low to high) -----------------------------------------------------------------
# SIFT-50M (REFERENCE.md section 2) names the ends and the sizes; the words in between follow
# DataSpeech's text bins (huggingface/dataspeech, metadata_to_text.py and v02_text_bins.json),
# whose scheme SIFT-50M's "slightly low" example matches.
PITCH_LEVELS = ("very low", "quite low", "slightly low", "moderate", "slightly high", "quite high", "very high")
PITCH_VARIATION_LEVELS = ("very monotone", "quite monotone", "slightly monotone", "moderate intonation",
                          "slightly expressive", "quite expressive", "very expressive")
SPEAKING_SPEED_LEVELS = ("very slowly", "quite slowly", "slightly slowly", "moderate speed",
                         "slightly fast", "quite fast", "very fast")
INTENSITY_LEVELS = ("softly", "moderate volume", "loudly")
NOISE_LEVELS = ("very noisy", "quite noisy", "slightly noisy", "balanced in clarity",
                "slightly clean", "quite clean", "very clean")
# Speech quality (6) and distortion (6): SIFT-50M gives the sizes (PESQ-like, SI-SDR-like) but not the
# words. Speech quality takes DataSpeech's PESQ words (metadata_to_text.py, PESQ_BINS); distortion
# follows the shape of DataSpeech's SI-SDR words (SI_SDR_BINS: "extremely noisy" ... "very clear"),
# ours, said of distortion because speechsift's noise field already speaks of noise.
SPEECH_QUALITY_LEVELS = ("very bad speech quality", "bad speech quality", "slightly bad speech quality",
                         "moderate speech quality", "great speech quality", "wonderful speech quality")
DISTORTION_LEVELS = ("extremely distorted", "very distorted", "distorted", "slightly distorted",
                     "almost no distortion", "no distortion")
# Reverberation (5): SIFT-50M names the ends ("very distant-sounding ... very close-sounding"); the
# levels between are DataSpeech's v02 reverberation words (v02_text_bins.json, seven levels) without
# its "quite" levels. Low C50 is distant-sounding.
REVERBERATION_LEVELS = ("very distant-sounding", "slightly distant-sounding", "moderately balanced reverberation",
                        "slightly close-sounding", "very close-sounding")


class BinsFileError(ConfigError):
    """A bins JSON file that cannot be used; the message names the file and the problem."""


class BinFitError(ValueError):
    """Too few usable values to fit bins."""


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Bins:
    """One set of thresholds: ``labels[i]`` covers the values between ``edges[i-1]`` and ``edges[i]``.

    Args:
        labels: n words, low to high (None: a level that meta leaves out).
        edges: n - 1 finite inner edges, non-decreasing.
        method: ``fixed`` (a published rule), ``equal_width`` or ``quantile`` (fitted).
        source: where the numbers come from (a citation, or the dataset they were fitted on).
        trim_std: for fitted bins, the k of the mean +- k*std outlier cut.
        n_values: for fitted bins, how many values were left after the cut.
        value_range: for fitted bins, (min, max) of those values.
    """

    labels: tuple[str | None, ...]
    edges: tuple[float, ...]
    method: str = "fixed"
    source: str = ""
    trim_std: float | None = None
    n_values: int | None = None
    value_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        if len(self.labels) < 2:
            raise ValueError(f"need at least two labels, got {list(self.labels)}")
        if len(self.edges) != len(self.labels) - 1:
            raise ValueError(f"{len(self.labels)} labels need {len(self.labels) - 1} edges, got {len(self.edges)}")
        if not all(math.isfinite(e) for e in self.edges):
            raise ValueError(f"edges must be finite, got {list(self.edges)}")
        if any(b < a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"edges must be non-decreasing, got {list(self.edges)}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")

    def index(self, value: float | None) -> int | None:
        """The bin of ``value`` (0 = lowest); None for a missing (None/NaN) value.

        On an edge, the bin nearer the middle label wins (see the module docstring).
        """
        if _is_missing(value):
            return None
        v = float(value)  # type: ignore[arg-type]
        low = bisect.bisect_left(self.edges, v)  # bins strictly below v's edges
        high = bisect.bisect_right(self.edges, v)
        if low == high:
            return low
        middle = (len(self.labels) - 1) / 2
        return min(range(low, high + 1), key=lambda i: (abs(i - middle), i))

    def label(self, value: float | None) -> str | None:
        """The word for ``value``; None for a missing value (or a level meta leaves out)."""
        i = self.index(value)
        return None if i is None else self.labels[i]

    @classmethod
    def fit(cls, values: Iterable[float | None], labels: Sequence[str | None], *, method: str = "equal_width",
            trim_std: float | None = None, source: str = "") -> Bins:
        """Bins fitted on ``values`` (missing and non-finite ones skipped).

        Outliers with ``|v - mean| >= trim_std * std`` are dropped first (DataSpeech's
        ``std_tolerance``; None keeps all). ``equal_width`` cuts [min, max] of the rest into
        ``len(labels)`` equal intervals; ``quantile`` puts the same number of values in each bin.
        Raises BinFitError with fewer than ``MIN_FIT_VALUES`` values left.
        """
        if method not in ("equal_width", "quantile"):
            raise ValueError(f"fit method must be 'equal_width' or 'quantile', got {method!r}")
        x = np.array([float(v) for v in values if not _is_missing(v)], dtype=np.float64)
        x = x[np.isfinite(x)]
        if trim_std is not None and x.size:
            std = float(np.std(x))
            if std > 0:
                x = x[np.abs(x - np.mean(x)) < trim_std * std]
        if x.size < MIN_FIT_VALUES:
            raise BinFitError(f"need at least {MIN_FIT_VALUES} values to fit bins, got {x.size}")
        n = len(labels)
        if method == "equal_width":
            edges = np.linspace(float(x.min()), float(x.max()), n + 1)[1:-1]
        else:
            edges = np.quantile(x, np.arange(1, n) / n)
        return cls(tuple(labels), tuple(float(e) for e in edges), method, source, trim_std, int(x.size),
                   (float(x.min()), float(x.max())))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": list(self.labels), "edges": list(self.edges), "method": self.method}
        if self.source:
            out["source"] = self.source
        if self.trim_std is not None:
            out["trim_std"] = self.trim_std
        if self.n_values is not None:
            out["n_values"] = self.n_values
        if self.value_range is not None:
            out["value_range"] = list(self.value_range)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bins:
        value_range = data.get("value_range")
        return cls(
            labels=tuple(data["labels"]),
            edges=tuple(data["edges"]),
            method=data.get("method", "fixed"),
            source=data.get("source", ""),
            trim_std=data.get("trim_std"),
            n_values=data.get("n_values"),
            value_range=tuple(value_range) if value_range is not None else None,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class FieldBins:
    """The bins of one meta field and the feature column they read.

    ``by_gender`` holds one ``Bins`` per gender (pitch); a clip whose gender has no bins there
    falls back to ``bins``, and gets no label (None) when that is None too: a pitch level is
    only meaningful relative to the speaker's gender.
    """

    feature: str
    bins: Bins | None = None
    by_gender: Mapping[str, Bins] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bins is None and not self.by_gender:
            raise ValueError(f"bins for feature {self.feature!r} need `bins` or `by_gender`")

    def bins_for(self, gender: str | None = None) -> Bins | None:
        if self.by_gender and gender is not None and gender in self.by_gender:
            return self.by_gender[gender]
        return self.bins

    def label(self, value: float | None, gender: str | None = None) -> str | None:
        """The word for ``value`` (for a clip of ``gender`` where the bins are per gender)."""
        bins = self.bins_for(gender)
        return None if bins is None else bins.label(value)

    @classmethod
    def fit(cls, feature: str, values: Sequence[float | None], labels: Sequence[str | None], *,
            genders: Sequence[str | None] | None = None, method: str = "equal_width",
            trim_std: float | None = None, source: str = "") -> FieldBins:
        """Fit bins on ``values``; with ``genders`` (aligned with ``values``), one set per gender.

        Genders with too few values are left out (logged); BinFitError when nothing can be fitted.
        """
        if genders is None:
            return cls(feature, Bins.fit(values, labels, method=method, trim_std=trim_std, source=source))
        if len(genders) != len(values):
            raise ValueError(f"{len(values)} values but {len(genders)} genders")
        groups: dict[str, list[float | None]] = {}
        for value, gender in zip(values, genders):
            if gender is not None:
                groups.setdefault(gender, []).append(value)
        by_gender = {}
        for gender, group in sorted(groups.items()):
            try:
                by_gender[gender] = Bins.fit(group, labels, method=method, trim_std=trim_std,
                                             source=f"{source} ({gender})" if source else gender)
            except BinFitError as exc:
                log.warning("no %s bins for gender %r: %s", feature, gender, exc)
        if not by_gender:
            raise BinFitError(f"no gender has enough {feature} values to fit bins")
        return cls(feature, None, by_gender)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature": self.feature}
        if self.bins is not None:
            out["bins"] = self.bins.to_dict()
        if self.by_gender:
            out["by_gender"] = {g: b.to_dict() for g, b in self.by_gender.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldBins:
        return cls(
            feature=data["feature"],
            bins=Bins.from_dict(data["bins"]) if data.get("bins") is not None else None,
            by_gender={g: Bins.from_dict(b) for g, b in (data.get("by_gender") or {}).items()},
        )


@dataclass(frozen=True)
class FieldSpec:
    """How to fit one meta field from one feature column (``BinSet.fit``)."""

    field: str
    feature: str
    labels: tuple[str | None, ...]
    by_gender: bool = False
    method: str = "equal_width"
    trim_std: float | None = None


# The SIFT-50M fields, fitted per dataset. Outlier cuts (k of mean +- k*std) are DataSpeech's
# (metadata_to_text.py: pitch 2, speaking rate 4.0, SNR 3.5, pitch std 4.0, reverberation (C50) 4;
# none for PESQ and SI-SDR); DataSpeech has no intensity field: k = 3 makes three bins of 2 std each,
# 16 / 68 / 16 % for normal data. Pitch variation is binned on the semitone std, which does not
# depend on the voice's register. Speech quality reads the DNSMOS P.808 MOS (features.quality),
# distortion the estimated signal-to-distortion ratio (features.distortion). Speech quality has no
# fixed edges: DataSpeech's v02 set hand-picked PESQ edges (v02_bin_edges.json: 1, 1.7, 2.4, 3.1,
# 3.6, 4, 4.5 on PESQ's MOS-LQO scale), which do not carry over to a DNSMOS MOS (another model,
# another listening test), so the six words are fitted on each dataset's own scores like the rest.
SIFT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("pitch", "f0_median_hz", PITCH_LEVELS, by_gender=True, trim_std=2.0),
    FieldSpec("pitch_variation", "f0_std_st", PITCH_VARIATION_LEVELS, trim_std=4.0),
    FieldSpec("speaking_speed", "speaking_rate", SPEAKING_SPEED_LEVELS, trim_std=4.0),
    FieldSpec("intensity", "relative_db", INTENSITY_LEVELS, trim_std=3.0),
    FieldSpec("noise", "snr_db", NOISE_LEVELS, trim_std=3.5),
    FieldSpec("speech_quality", "dnsmos_p808", SPEECH_QUALITY_LEVELS),
    FieldSpec("reverberation", "c50_db", REVERBERATION_LEVELS, trim_std=4.0),
    FieldSpec("distortion_level", "distortion_sdr_db", DISTORTION_LEVELS),
)


@dataclass(frozen=True)
class BinSet:
    """Bins for several meta fields: ``fields`` maps a meta field name to its ``FieldBins``.

    Args:
        fields: meta field -> bins.
        name: a free description (the dataset the bins were fitted on).
        measurement_version: ``features.MEASUREMENT_VERSION`` of the values the bins were fitted
            on; loading bins from another version logs a warning.
    """

    fields: Mapping[str, FieldBins]
    name: str = ""
    measurement_version: int | None = None

    def label(self, field_name: str, value: float | None, gender: str | None = None) -> str | None:
        return self.fields[field_name].label(value, gender)

    def labels(self, features: Mapping[str, float], gender: str | None = None) -> dict[str, str]:
        """Meta labels for one clip's features: ``{field: word}`` for every field that has one."""
        out = {}
        for field_name, field_bins in self.fields.items():
            word = field_bins.label(features.get(field_bins.feature), gender)
            if word is not None:
                out[field_name] = word
        return out

    def merged(self, other: BinSet) -> BinSet:
        """A BinSet with ``other``'s fields added (replacing same-named ones)."""
        return BinSet({**self.fields, **other.fields}, other.name or self.name,
                      other.measurement_version if other.measurement_version is not None else self.measurement_version)

    @classmethod
    def fit(cls, features: Sequence[Mapping[str, float]], genders: Sequence[str | None] | None = None, *,
            specs: Sequence[FieldSpec] = SIFT_FIELDS, name: str = "",
            measurement_version: int | None = None) -> BinSet:
        """Fit ``specs`` on a dataset: ``features`` is one mapping per clip (``Clip.features``),
        ``genders`` the clips' normalized genders (needed by per-gender specs).

        A field without enough values (no transcripts for a speaking rate, no gender labels for
        pitch) is left out, with a warning.
        """
        if measurement_version is None:
            from speechsift.features import MEASUREMENT_VERSION

            measurement_version = MEASUREMENT_VERSION
        fields: dict[str, FieldBins] = {}
        for spec in specs:
            values = [row.get(spec.feature) for row in features]
            try:
                if spec.by_gender:
                    if genders is None:
                        raise BinFitError("per-gender bins need the clips' genders")
                    fields[spec.field] = FieldBins.fit(spec.feature, values, spec.labels, genders=genders,
                                                       method=spec.method, trim_std=spec.trim_std, source=name)
                else:
                    fields[spec.field] = FieldBins.fit(spec.feature, values, spec.labels, method=spec.method,
                                                       trim_std=spec.trim_std, source=name)
            except BinFitError as exc:
                log.warning("bins for %s (%s) not fitted: %s", spec.field, spec.feature, exc)
        return cls(fields, name, measurement_version)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": BINS_FORMAT, "version": BINS_FORMAT_VERSION}
        if self.name:
            out["name"] = self.name
        if self.measurement_version is not None:
            out["measurement_version"] = self.measurement_version
        out["fields"] = {name: fb.to_dict() for name, fb in self.fields.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "bins data") -> BinSet:
        """Parse and validate; BinsFileError names ``origin`` and the field at fault."""
        if not isinstance(data, Mapping) or data.get("format") != BINS_FORMAT:
            raise BinsFileError(f"{origin}: not a speechsift bins file (expected \"format\": \"{BINS_FORMAT}\")")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise BinsFileError(f"{origin}: missing or bad \"version\" ({version!r})")
        if version > BINS_FORMAT_VERSION:
            raise BinsFileError(f"{origin}: bins format version {version} is newer than this speechsift reads "
                                f"({BINS_FORMAT_VERSION}); upgrade speechsift")
        fields = {}
        for name, raw in (data.get("fields") or {}).items():
            try:
                fields[name] = FieldBins.from_dict(raw)
            except (KeyError, TypeError, ValueError) as exc:
                raise BinsFileError(f"{origin}: field {name!r} is invalid: {exc}") from None
        return cls(fields, data.get("name", ""), data.get("measurement_version"))


def save_bins(bins: BinSet, path: str | os.PathLike[str]) -> Path:
    """Write ``bins`` as JSON to ``path`` atomically (temp file + rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(bins.to_dict(), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_bins(path: str | os.PathLike[str]) -> BinSet:
    """Read a bins JSON file written by ``save_bins``; BinsFileError says what is wrong with it.

    Logs a warning when the bins were fitted on another ``features.MEASUREMENT_VERSION``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BinsFileError(f"bins file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BinsFileError(f"cannot read bins file {path}: {exc}") from None
    bins = BinSet.from_dict(data, origin=str(path))
    from speechsift.features import MEASUREMENT_VERSION

    if bins.measurement_version is not None and bins.measurement_version != MEASUREMENT_VERSION:
        log.warning("%s: bins were fitted on measurement version %s, this speechsift measures version %s; "
                    "refit them", path, bins.measurement_version, MEASUREMENT_VERSION)
    return bins


# --- fixed rules --------------------------------------------------------------------------------

# The seed's rules (tiny-audio omni table, REFERENCE.md section 1; thresholds in labels.tables).
PACE_BINS = Bins(("slow", "normal", "fast"), (tables.PACE_SLOW_BELOW, tables.PACE_FAST_ABOVE),
                 source="tiny-audio omni: slow < 6.0 <= normal <= 9.0 < fast (speaking_rate)")
VOLUME_BINS = Bins(("quiet", None, "loud"), (tables.VOLUME_QUIET_BELOW_DB, tables.VOLUME_LOUD_ABOVE_DB),
                   source="tiny-audio omni: quiet < -16.4 dB, loud > -10 dB (relative_db); normal omitted")

# Gender-relative pitch (median F0, Hz), 7 levels. SIFT-50M publishes one bin per gender: "slightly
# low" = 125-138 Hz for men, 166-182 Hz for women (REFERENCE.md section 2), the third of seven. Its
# bins are computed per dataset from the value distribution as DataSpeech does, i.e. equal-width
# bins (np.histogram), so every bin has the width of the published one: 13 Hz for men, 16 Hz for
# women. Extending by that width from the published edges gives the tables below; the only
# assumption is equal width. The outer bins are open (clamped), as in DataSpeech. For comparison,
# DataSpeech's own fit on LibriTTS-R + MLS (v02_bin_edges.json) has 17 Hz / 21.4 Hz bins with
# "slightly low" at 98.7-115.7 Hz (men) and 163.1-184.5 Hz (women): bins depend on the corpus,
# which is why data-driven bins (BinSet.fit) are the default for real datasets.
PITCH_MALE_EDGES_HZ = (112.0, 125.0, 138.0, 151.0, 164.0, 177.0)
PITCH_FEMALE_EDGES_HZ = (150.0, 166.0, 182.0, 198.0, 214.0, 230.0)
PITCH_BINS_BY_GENDER = {
    "male": Bins(PITCH_LEVELS, PITCH_MALE_EDGES_HZ,
                 source="SIFT-50M slightly low = 125-138 Hz (men), extended at equal 13 Hz width"),
    "female": Bins(PITCH_LEVELS, PITCH_FEMALE_EDGES_HZ,
                   source="SIFT-50M slightly low = 166-182 Hz (women), extended at equal 16 Hz width"),
}

FIXED_BINS = BinSet(
    {
        "pace": FieldBins("speaking_rate", PACE_BINS),
        "volume": FieldBins("relative_db", VOLUME_BINS),
        "pitch": FieldBins("f0_median_hz", by_gender=PITCH_BINS_BY_GENDER),
    },
    name="fixed thresholds (tiny-audio omni pace/volume, SIFT-50M-derived pitch)",
)
