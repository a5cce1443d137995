"""``segmint report`` and ``segmint profile``: the file's content, languages, the CLI.

(The report tests live beside the profile tests: they share the demo project with two runs.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs
from store_sql import raw
from typer.testing import CliRunner

from segmint.cli import app
from segmint.project import Project
from segmint.report import LANGUAGES, write_report
from segmint.report._i18n import label_keys, words

runner = CliRunner()


def _lifecycle_stages(demo: Project) -> list[str]:
    df = raw(demo, "select distinct lifecycle_stage from customer_traits "
                   "where lifecycle_stage is not null")  # fmt: skip
    return sorted(df["lifecycle_stage"])


def test_the_report_holds_every_section_and_chart(demo: Project, tmp_path: Path) -> None:
    demo.config.profiles.card_traits = ["lifecycle_stage", "no_such_trait"]
    stages = _lifecycle_stages(demo)
    result = write_report(demo, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert result.sections == [
        "overview", "segments", "rfm", "clv-churn", "cards", "sizing", "transitions"
    ]  # fmt: skip
    kinds = [re.sub(r"^chart-\d+-", "", c) for c in result.charts]
    rules = [s.name for s in demo.config.segments]
    # one index chart per card that has members: the rule segments and each stage
    sizes = raw(demo, "select segment, size from segment_sizes where run_id = "
                      "(select max(run_id) from runs)").set_index("segment")["size"]  # fmt: skip
    cards = sum(1 for s in rules if sizes[s] > 0) + len(stages)
    assert sorted(kinds) == sorted(
        ["segments", "rfm-grid", "rfm-cells", "clv", "clv-check", "churn", "churn-drivers",
         "sizing", "sankey-rfm_family", "sankey-lifecycle_family", "sankey-tiers_family"]
        + ["index"] * cards
    )  # fmt: skip
    for chart in result.charts:  # each chart: its div and the call that draws it
        assert f'id="{chart}"' in html
        assert f'document.getElementById("{chart}")' in html
    # a card per lifecycle stage (the trait-value path clusters and macro segments take)
    assert "Cards by Lifecycle stage" in html
    for stage in stages:
        assert f'id="card-lifecycle_stage={stage}"' in html
    # self-contained: plotly.js inline, nothing fetched (the browser test proves it)
    assert get_plotlyjs() in html
    ours = html.replace(get_plotlyjs(), "")
    assert "<script src" not in ours
    assert not re.search(r"(src|href)=\"https?://", ours)


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("da", ["Segmentkort", "Bevægelser mellem segmenter", "FAKTA", "VÆRDI", "For smalt"]),
        ("sv", ["Segmentkort", "Rörelser mellan segment", "FÖRSÄLJNING", "VÄRDE"]),
        ("nb", ["Segmentkort", "Bevegelser mellom segmenter", "SALG", "VERDI"]),
    ],
)
def test_the_report_speaks_the_language(
    demo: Project, tmp_path: Path, lang: str, phrases: list[str]
) -> None:
    demo.config.profiles.min_customers = 10_000  # every segment too narrow: the flag shows
    write_report(demo, tmp_path / "r.html", lang=lang)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html
    for phrase in phrases:
        assert phrase in html
    for english in ("Segment cards", "Movement between segments", "Share of revenue"):
        assert english not in html


def test_every_label_is_translated() -> None:
    en = words("en")
    for lang in LANGUAGES:
        w = words(lang)
        for key in label_keys():
            assert w[key].strip(), (lang, key)
            # placeholders survive translation
            assert set(re.findall(r"{\w+}", w[key])) == set(re.findall(r"{\w+}", en[key]))
    for lang in ("da", "sv", "nb"):
        w = words(lang)
        same = [k for k in label_keys() if w[k] == en[k]]
        assert len(same) <= 8, (lang, same)  # NPS, Segment, Region, ... are the same word
    assert words("da").trait("spend_90d") == "Køb (90 dage)"
    assert words("sv").trait("email_opens_30d") == "Öppnade e-postutskick (30 dagar)"


def test_cli_report_and_profile(demo: Project, tmp_path: Path) -> None:
    root = str(demo.root)
    demo.close()
    out = tmp_path / "rapport.html"
    r = runner.invoke(app, ["report", "-p", root, "--out", str(out), "--lang", "sv", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["path"] == str(out)
    assert out.exists()
    assert got["lang"] == "sv"
    r = runner.invoke(app, ["profile", "vip", "-p", root, "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout)["card"]
    size = raw(demo, "select size from segment_sizes where segment = 'vip' "
                     "order by run_id desc limit 1").iloc[0, 0]  # fmt: skip
    assert card["size"] == size
    assert card["group"] == {"name": "vip", "kind": "segment", "field": None, "value": None}
    r = runner.invoke(app, ["profile", "vip", "--compare", "region=Hovedstaden", "-p", root])
    assert r.exit_code == 0, r.output
    for text in ("FACTS", "SALES", "VALUE", "What sets them apart", "vip vs region=Hovedstaden"):
        assert text in r.stdout
    r = runner.invoke(app, ["profile", "vipp", "-p", root])
    assert r.exit_code == 1
    assert "did you mean 'vip'" in r.output
    r = runner.invoke(app, ["report", "-p", root, "--lang", "de"])
    assert r.exit_code == 2


@pytest.mark.slow
def test_b2b_sizing_matches_companies_by_industry_and_size_band(tmp_path: Path) -> None:
    """The B2B demo: companies per NACE code x size band, employees matched to the bands."""
    import pandas as pd

    from segmint.profiles import profile

    folder = tmp_path / "b2b"
    r = runner.invoke(
        app, ["demo", str(folder), "--customers", "600", "--seed", "3", "--b2b", "--json"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)["report"]
    assert report == str(folder / "report.html")
    assert "Market size and penetration" in Path(report).read_text(encoding="utf-8")
    p = Project.open(tmp_path / "b2b")
    try:
        s = profile(p, "large_danish").card.sizing
        run = raw(p, "select max(run_id) as r from runs").iloc[0, 0]
        members = raw(p, "select customer_id from segment_memberships where from_run <= "
                         f"'{run}' and (to_run is null or to_run > '{run}') "
                         "and segment = 'large_danish'")["customer_id"]  # fmt: skip
        firms = raw(p, "select c.customer_id, c.nace_code, c.employees from customers c "
                       "join identities i on i.customer_id = c.customer_id "
                       "where i.person_id = c.customer_id")  # fmt: skip
        market = raw(p, "select nace_code, size_band, companies from market_companies")
    finally:
        p.close()
    bands = pd.cut(firms["employees"], [-1, 9, 49, 249, 10**9],
                   labels=["0-9", "10-49", "50-249", "250+"])  # fmt: skip
    firms["size_band"] = bands.astype(str)
    cells = firms.groupby(["nace_code", "size_band"]).size().rename("customers").reset_index()
    cells = cells.merge(market, on=["nace_code", "size_band"])
    mine = firms[firms["customer_id"].isin(members)]
    m = mine.groupby(["nace_code", "size_band"]).size().rename("n").reset_index().merge(cells)
    like = (m["n"] * m["companies"] / m["customers"]).sum()
    assert s is not None
    assert s["matched"] == len(members) > 0
    assert s["market"] == pytest.approx(like, rel=1e-12)
    assert s["penetration"] == pytest.approx(len(members) / like, rel=1e-12)


def test_numbers_are_written_the_language_s_way() -> None:
    from segmint.report._build import number, percent, signed

    assert number(1234567.5, "en", 1) == "1,234,567.5"
    assert number(1234567.5, "da", 1) == "1.234.567,5"
    assert number(1234567.5, "sv", 1) == "1\u00a0234\u00a0567,5"
    assert number(1234567.5, "nb") == "1\u00a0234\u00a0568"
    assert percent(0.0626, "da") == "6,3\u00a0%"
    assert signed(-1234, "da") == "−1.234"
    assert signed(None, "en") == "–"
