"""Splits disjoint by speaker with EvalSIFT-sized cells, and seeded weighted mixing."""

from __future__ import annotations

from collections import Counter

from speechsift.engine.mixing import MixKey, plan_mix, stratum_targets
from speechsift.engine.splits import SplitKey, plan_splits


def _keys(speakers: int = 40, per_speaker: int = 10, languages=("en", "de")) -> list[SplitKey]:
    keys = []
    for s in range(speakers):
        language = languages[s % len(languages)]
        for i in range(per_speaker):
            keys.append(SplitKey(f"s{s}-{i}", f"spk{s}", language, "closed_ended" if i % 2 else "open_ended"))
    return keys


def test_eval_cells_are_filled_and_disjoint_from_train_by_speaker():
    keys = _keys()
    plan = plan_splits(keys, eval_per_cell=12, dev_fraction=0.1, seed=3)
    cells = Counter((k.language, k.category) for k, s in zip(keys, plan.split) if s == "eval")
    assert set(cells.values()) == {12} and len(cells) == 4
    by_split: dict[str, set[str]] = {}
    for key, split in zip(keys, plan.split):
        by_split.setdefault(split or "dropped", set()).add(key.speaker)
    assert not by_split["train"] & by_split["eval"]
    assert not by_split["train"] & by_split["dev"] and not by_split["dev"] & by_split["eval"]
    assert by_split["dropped"] <= by_split["eval"], "only eval speakers' surplus is dropped"
    assert plan.dev_speakers == int((40 - plan.eval_speakers) * 0.1) and not plan.unfilled_cells
    assert plan_splits(keys, eval_per_cell=12, dev_fraction=0.1, seed=3).split == plan.split
    assert plan_splits(keys, eval_per_cell=12, dev_fraction=0.1, seed=4).split != plan.split


def test_a_small_corpus_keeps_a_train_split_and_reports_unfilled_cells():
    keys = _keys(speakers=4, per_speaker=5, languages=("en",))
    plan = plan_splits(keys, eval_per_cell=1000, dev_fraction=0.0, seed=0)
    assert plan.eval_speakers == 2 and plan.split.count("train") == 10
    assert plan.unfilled_cells == {"en/closed_ended": 4, "en/open_ended": 6}


def test_no_splits_configured_means_all_train():
    keys = _keys(speakers=3)
    assert set(plan_splits(keys, eval_per_cell=None, dev_fraction=0.0, seed=0).split) == {"train"}


def test_targets_follow_weights_and_add_up():
    sizes = {("a", "x"): 1000, ("b", "x"): 1000, ("b", "y"): 1000}
    targets = stratum_targets(sizes, 100, {"task": {"a": 2.0}, "source": {"y": 0.0}})
    assert targets == {("a", "x"): 67, ("b", "x"): 33, ("b", "y"): 0}


def test_mix_samples_at_random_and_upsamples_when_asked():
    keys = [MixKey(f"a{i}", "a", "x") for i in range(100)] + [MixKey(f"b{i}", "b", "x") for i in range(10)]
    plan = plan_mix(keys, size=40, weights={}, upsample=False, seed=1)
    chosen_a = [i for i in range(100) if plan.copies[i]]
    # b has 10 of its share of 20: all of it is taken, and a gets the 10 b could not use
    assert len(chosen_a) == 30 and chosen_a != list(range(30)), "random, not the first rows"
    assert sum(plan.copies[100:]) == 10
    assert plan.strata["b/x"] == {"available": 10, "share": 20, "target": 10, "selected": 10}
    assert plan.strata["a/x"] == {"available": 100, "share": 20, "target": 30, "selected": 30}
    assert (plan.selected, plan.shortfall, plan.redistributed) == (40, 0, 10)
    up = plan_mix(keys, size=40, weights={}, upsample=True, seed=1)
    assert sum(up.copies[100:]) == 20 and max(up.copies[100:]) == 2 and sum(up.copies[:100]) == 20
    assert plan_mix(keys, size=40, weights={}, upsample=False, seed=1).copies == plan.copies


def test_unused_quota_goes_by_weight_and_a_shortfall_is_reported():
    keys = ([MixKey(f"a{i}", "a", "x") for i in range(100)] + [MixKey(f"b{i}", "b", "x") for i in range(5)]
            + [MixKey(f"c{i}", "c", "x") for i in range(100)] + [MixKey(f"d{i}", "d", "x") for i in range(50)])
    weights = {"task": {"a": 1, "b": 1, "c": 2, "d": 0}}
    plan = plan_mix(keys, size=80, weights=weights, upsample=False, seed=0)
    selected = {name: s["selected"] for name, s in plan.strata.items()}
    # shares 20/20/40/0; b gives its 5, and its 15 unused go to a and c 1:2
    assert selected == {"a/x": 25, "b/x": 5, "c/x": 50, "d/x": 0}
    assert plan.selected == 80 and plan.shortfall == 0 and plan.redistributed == 15
    short = plan_mix(keys, size=1000, weights=weights, upsample=False, seed=0)
    assert short.selected == 205 and short.shortfall == 795, "weight 0 stays out even when short"
    assert short.strata["d/x"]["selected"] == 0


def test_a_short_mixture_and_an_empty_dev_split_are_reported(tmp_path):
    import json

    from factories import make_corpus, recipe_dict

    from speechsift.engine import run_recipe
    from speechsift.recipe import parse_recipe

    manifest = make_corpus(tmp_path / "corpus", n=6, seconds=0.1)  # three speakers
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription", "sit_ssp"], splits={"dev": {"fraction": 0.1}},
                       mix={"size": 20, "weights": {"task": {"sit_ssp": 3}}})
    result = run_recipe(parse_recipe(data), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["mix"]["selected"] == 12 and run["mix"]["shortfall"] == 8
    assert run["mix"]["strata"]["sit_ssp/src"] == {"available": 6, "share": 15, "target": 6, "selected": 6}
    assert run["mix"]["strata"]["transcription/src"] == {"available": 6, "share": 5, "target": 6, "selected": 6}
    mix_warning, dev_warning = run["warnings"]
    assert mix_warning.startswith("mix: 12 train examples of the 20 asked for") and "sit_ssp/src 6 of 6" in mix_warning
    assert dev_warning.startswith("splits.dev: the dev split is empty")
    assert result.warnings == run["warnings"]
    assert "## Warnings" in (out / "README.md").read_text()
