"""Macro segments in a run: survey classes found, projected onto the non-respondents.

The planted shop again, plus a survey answered by 70 % of its customers. Each planted
behavioural group has its own needs class with clearly different answers, so the classes
are recoverable from the answers and, through behaviour, for the customers who did not
answer: the projection must find them too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from discovery_shop import AS_OF, GROUPS, Shop, open_shop
from sklearn.metrics import adjusted_rand_score

from segmint import runs, service

ITEMS = ("q_price", "q_quality", "q_green", "q_online", "q_service", "q_local", "q_brand",
         "q_fast")  # fmt: skip
#: planted needs class per group: agreement (High/Low) with each item; any two differ in
#: at least four items
NEEDS = {"frequent high": "HHHHLLLL", "frequent low": "LLLLHHHH", "rare high": "HHLLHHLL",
         "rare low": "LLHHLLHH"}  # fmt: skip
LIKERT = {"L": (0.45, 0.35, 0.12, 0.05, 0.03), "H": (0.03, 0.05, 0.12, 0.35, 0.45)}


def _write_survey(path: Path, truth: dict[str, str], seed: int) -> set[str]:
    rng = np.random.default_rng(seed)
    answered: set[str] = set()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "survey_id", "response_date", *ITEMS])
        for customer, group in truth.items():
            if rng.random() < 0.3:
                continue
            answered.add(customer)
            answers = [int(rng.choice(5, p=LIKERT[lv])) + 1 for lv in NEEDS[group]]
            w.writerow([customer, "needs-2026", "2026-03-01", *answers])
    return answered


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Shop, set[str]]]:
    shop = open_shop(tmp_path_factory.mktemp("survey") / "shop", 100, seed=21)
    answered = _write_survey(shop.root / "survey.csv", shop.truth, seed=22)
    service.load(shop.project, "survey_responses", shop.root / "survey.csv", source="survey")
    macro = shop.project.config.discovery.macro
    macro.enabled = True
    macro.k_max = 5
    try:
        service.run(shop.project, as_of=AS_OF)
        yield shop, answered
    finally:
        shop.project.close()


def test_survey_classes_are_found_and_projected_onto_everyone(surveyed: tuple) -> None:
    shop, answered = surveyed
    t = shop.project.engine.table("customer_traits").to_pandas().set_index("customer_id")
    truth = pd.Series(shop.truth).reindex(t.index)
    card = next(c for c in runs.model_cards(shop.project.engine) if c["model"] == "macro segments")
    assert card["k"] == len(GROUPS)
    assert card["respondents"] == len(answered)
    resp = t.index.isin(list(answered))
    # respondents: their latent classes are the planted ones
    assert adjusted_rand_score(truth[resp], t.loc[resp, "macro_segment"]) >= 0.8
    # everyone else: the classifier, from behaviour, finds the same classes
    proj = card["projection"]
    assert proj["accuracy"] >= 0.8, proj
    assert proj["accuracy"] > proj["majority_baseline"] + 0.4
    assert adjusted_rand_score(truth[~resp], t.loc[~resp, "macro_segment"]) >= 0.8
    assert t["macro_segment"].notna().all()
    assert t["macro_probability"].between(1 / card["k"], 1).all()
    # names come from the items a class agrees with most: the planted high ones
    by_group = t.groupby(truth)["macro_name"].agg(lambda v: v.mode()[0])
    for group, name in by_group.items():
        high = {i.removeprefix("q_") for i, lv in zip(ITEMS, NEEDS[group], strict=True)
                if lv == "H"}  # fmt: skip
        words = set(name.removeprefix("Values ").replace(" & ", ", ").split(", "))
        assert words, name
        assert words <= high, (group, name)
