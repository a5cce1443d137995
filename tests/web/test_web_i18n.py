"""The web UI's words: four languages for every label, report labels reused, packaging."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from segmint.report._i18n import words
from segmint.web._i18n import ui_keys, ui_label, ui_words

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "segmint" / "web"


@pytest.mark.parametrize("key", ui_keys())
def test_every_label_has_four_translations(key: str) -> None:
    labels = ui_label(key)
    assert len(labels) == 4
    assert all(s.strip() for s in labels), key
    # placeholders are the same in every language
    import string

    names = [{f for _, f, _, _ in string.Formatter().parse(s) if f} for s in labels]
    assert all(n == names[0] for n in names), (key, names)


def test_report_labels_are_reused_not_copied() -> None:
    # the same word comes from the report's table, in each language
    for lang in ("en", "da", "sv", "nb"):
        w = ui_words(lang)
        assert w["customers"] == words(lang)["customers"]
        assert w["facts"] == words(lang)["facts"]
        assert w.trait("spend_90d") == words(lang).trait("spend_90d")
    assert ui_words("da")["facts"] == "FAKTA"
    assert ui_words("sv")["sales"] == "FÖRSÄLJNING"
    assert ui_words("nb").trait("spend_90d") == "Kjøp (90 dager)"


def test_languages_differ_and_unknown_falls_back_to_english() -> None:
    assert ui_words("en")["dashboard"] == "Dashboard"
    assert ui_words("da")["dashboard"] == "Overblik"
    assert ui_words("sv")["login"] == "Logga in"
    assert ui_words("nb")["logout"] == "Logg ut"
    assert ui_words("xx").lang == "en"
    assert ui_words(None)["save"] == "Save segment"


def test_words_for_scripts_hold_every_label() -> None:
    js = ui_words("sv").for_js()
    assert js["lang"] == "sv"
    assert set(ui_keys()) <= set(js["labels"])
    assert js["labels"]["customers"] == "Kunder"
    assert js["traits"]["recency_days"] == "Dagar sedan senaste order"
    assert js["windowed"]["spend"] == "Köp"


def test_templates_and_static_files_are_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["segmint"]
    files = [
        p
        for p in WEB.rglob("*")
        if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    ]
    assert {p.name for p in files} >= {"base.html", "app.js", "app.css", "builder.js"}
    for p in files:
        rel = p.relative_to(ROOT / "src" / "segmint").as_posix()
        assert any(fnmatch(rel, g) for g in globs), rel


def test_no_third_party_or_minified_script_is_committed() -> None:
    for p in (WEB / "static").iterdir():
        text = p.read_text(encoding="utf-8")
        assert "plotly" not in p.name.lower()
        # our own files are readable source: no minified line (thousands of characters)
        assert max(len(line) for line in text.splitlines()) <= 200, p.name
        assert "cdn" not in text.lower(), p.name


def test_page_labels_do_not_shadow_report_labels() -> None:
    # one key, one meaning: the canvas's VALUE is not the builder's "Value"
    from segmint.report._i18n import label_keys

    assert set(ui_keys()).isdisjoint(label_keys())
    assert ui_words("en")["value"] == "VALUE"
    assert ui_words("en")["cond_value"] == "Value"
