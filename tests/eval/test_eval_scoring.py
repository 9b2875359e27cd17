"""Aggregation: corpus-level ratios, QWK equal to scikit-learn's, bootstrap intervals, paired differences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from speechsift.eval.scoring import aggregate, metrics_in, paired_difference, quadratic_kappa, spec


def test_qwk_matches_scikit_learn_and_a_constant_guess_scores_zero():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 7, 200)
    measured = np.clip(targets + rng.integers(-1, 2, 200), 0, 6)
    rows = [{"target_pitch": float(t), "measured_pitch": float(m)} for t, m in zip(targets, measured)]
    result = aggregate("qwk_pitch", rows, 0, samples=300, levels={"pitch": 7})
    assert result["value"] == pytest.approx(cohen_kappa_score(targets, measured, weights="quadratic"))
    confusion = np.zeros((7, 7))
    np.add.at(confusion, (targets, measured), 1)
    assert float(quadratic_kappa(confusion)) == pytest.approx(result["value"])  # the bootstrap's formula
    assert result["ci95"][0] < result["value"] < result["ci95"][1]
    constant = [{"target_pitch": float(t), "measured_pitch": 3.0} for t in targets]
    assert aggregate("qwk_pitch", constant, 0, samples=50, levels={"pitch": 7})["value"] == pytest.approx(0.0)


def test_wer_is_errors_over_words_not_a_mean_of_rates():
    rows = [{"wer": 1.0, "wer_errors": 1, "wer_words": 1}, {"wer": 0.0, "wer_errors": 0, "wer_words": 9}]
    result = aggregate("wer", rows, 2, samples=100)
    assert result["value"] == pytest.approx(0.1) and result["n"] == 2 and result["failed"] == 2
    assert spec("wer").higher_is_better is False


def test_interval_is_none_for_one_item_and_metrics_are_named_from_scores():
    assert aggregate("accuracy", [{"accuracy": 1.0}], 0)["ci95"] is None
    assert metrics_in({"wer": 0.1, "wer_errors": 1, "wer_words": 10, "abs_error_pitch": 1, "target_pitch": 2,
                       "if_followed": 1, "if_instructions": 1, "if_followed.keywords": 1, "if_strict_prompt": 1}) == [
        "wer", "mae_pitch", "qwk_pitch", "if_strict_instruction", "if_strict_instruction.keywords", "if_strict_prompt"]


def test_paired_difference_sees_a_consistent_improvement():
    a = [{"accuracy": float(i % 3 == 0)} for i in range(60)]
    b = [{"accuracy": float(i % 3 != 2)} for i in range(60)]
    result = paired_difference("accuracy", a, b, samples=500)
    assert result["difference"] == pytest.approx(40 / 60 - 20 / 60)
    assert result["ci95"][0] > 0 and result["p_b_better"] > 0.99
    worse = paired_difference("wer", [{"wer_errors": 1, "wer_words": 10}] * 5, [{"wer_errors": 3, "wer_words": 10}] * 5,
                              samples=50)
    assert worse["difference"] == pytest.approx(0.2) and worse["p_b_better"] == 0.0
