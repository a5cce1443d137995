"""``segmint clv fit`` on a Danish export: the same fit as the library, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from segmint.cli import app
from segmint.demo import generate
from segmint.models import fit_clv

runner = CliRunner()


@pytest.fixture(scope="module")
def orders() -> pa.Table:
    t = generate(n_customers=1500, seed=3).tables["transactions"]
    return t.select(["customer_id", "order_date", "amount"])


def _danish_csv(orders: pa.Table, path: Path, *, bad_amount_at: int | None = None) -> Path:
    """A cp1252 ';' export with decimal commas and dd.mm.yyyy dates, as a Danish ERP writes."""
    lines = ["Kundenr;Ordredato;Beløb"]
    rows = zip(*(orders.column(c).to_pylist() for c in orders.column_names), strict=True)
    for i, (cid, when, amount) in enumerate(rows):
        money = "ukendt" if i == bad_amount_at else f"{amount:.2f}".replace(".", ",")
        lines.append(f"{cid};{when:%d.%m.%Y};{money}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_fit_from_a_danish_export_equals_the_library_fit(orders: pa.Table, tmp_path: Path) -> None:
    f = _danish_csv(orders, tmp_path / "ordrer.csv")
    r = runner.invoke(
        app,
        [
            "clv", "fit", str(f), "--customer", "Kundenr", "--date", "Ordredato",
            "--amount", "Beløb", "--calibration-end", "2026-03-31", "--json",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["rows_in"] == orders.num_rows
    assert got["rows_skipped"] == 0

    # the same fit straight from the generated table (dates at day resolution, as read)
    day = pc.cast(pc.cast(orders["order_date"], pa.date32()), pa.timestamp("us"))
    table = ibis.memtable(
        {"customer": orders["customer_id"], "date": day, "amount": pc.round(orders["amount"], 2)}
    )
    want = fit_clv(table, customer="customer", date="date", amount="amount",
                   calibration_end="2026-03-31")  # fmt: skip
    cards = {c["model"]: c for c in got["models"]}
    for card in want.cards:
        params = cards[card.model]["parameters"]
        assert params.keys() == card.parameters.keys()
        for k, v in card.parameters.items():
            assert params[k] == pytest.approx(v, rel=1e-6), (card.model, k)
    assert got["window"]["calibration_end"] == "2026-03-31"


def test_a_misspelled_column_names_file_and_column(orders: pa.Table, tmp_path: Path) -> None:
    f = _danish_csv(orders, tmp_path / "ordrer.csv")
    r = runner.invoke(
        app, ["clv", "fit", str(f), "--customer", "Kundenummer", "--date", "Ordredato",
              "--amount", "Beløb"],
    )  # fmt: skip
    assert r.exit_code == 1
    assert "ordrer.csv" in r.output
    assert "'Kundenummer'" in r.output
    assert "Kundenr" in r.output  # the columns the file does have


def test_an_unreadable_amount_names_its_row(orders: pa.Table, tmp_path: Path) -> None:
    f = _danish_csv(orders, tmp_path / "ordrer.csv", bad_amount_at=41)
    r = runner.invoke(
        app, ["clv", "fit", str(f), "--customer", "Kundenr", "--date", "Ordredato",
              "--amount", "Beløb"],
    )  # fmt: skip
    assert r.exit_code == 1
    assert "row 43" in r.output  # data row 41 (0-based) is line 43 after the header
    assert "'Beløb'" in r.output
    assert "'ukendt'" in r.output
