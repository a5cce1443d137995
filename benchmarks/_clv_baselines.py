"""Baseline CLV fits for ``benchmarks/clv.py``, run in ``benchmarks/.venv-clv``.

    _clv_baselines.py lifetimes|pymc BGNBD_PARQUET GG_PARQUET

Prints one JSON line: parameters, log-likelihood (lifetimes) and seconds.  Not imported
by segmint: lifetimes and PyMC-Marketing are installed only in that virtualenv.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


def _lifetimes(bg: pd.DataFrame, gg: pd.DataFrame) -> dict[str, object]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    t = time.perf_counter()
    f = BetaGeoFitter().fit(bg["x"], bg["t_x"], bg["T"], weights=bg["weight"].astype(int))
    bg_s = time.perf_counter() - t
    # lifetimes' log_likelihood_ is the weighted mean; report the total
    ll = (
        float(
            f._negative_log_likelihood(
                np.log(f._unload_params("r", "alpha", "a", "b")),
                bg["x"].to_numpy(),
                bg["t_x"].to_numpy(),
                bg["T"].to_numpy(),
                bg["weight"].to_numpy(),
                0.0,
            )
        )
        * -bg["weight"].sum()
    )
    per = gg.loc[gg.index.repeat(gg["weight"].astype(int))]
    t = time.perf_counter()
    g = GammaGammaFitter().fit(per["x"], per["monetary"])
    gg_s = time.perf_counter() - t
    return {
        "bgnbd": dict(
            zip(
                ["r", "alpha", "a", "b"],
                map(float, f._unload_params("r", "alpha", "a", "b")),
                strict=True,
            )
        ),
        "bgnbd_ll": ll,
        "bgnbd_s": bg_s,
        "gg": dict(
            zip(["p", "q", "gamma"], map(float, g._unload_params("p", "q", "v")), strict=True)
        ),
        "gg_s": gg_s,
    }


def _pymc(bg: pd.DataFrame, gg: pd.DataFrame) -> dict[str, object]:
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    per = bg.loc[bg.index.repeat(bg["weight"].astype(int))].reset_index(drop=True)
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(per)),
            "frequency": per["x"],
            "recency": per["t_x"],
            "T": per["T"],
        }
    )
    flat = {k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")}
    t = time.perf_counter()
    m = BetaGeoModel(data=data, model_config=flat)
    m.fit(method="map")
    bg_s = time.perf_counter() - t
    post = m.fit_result
    bg_params = {k: float(post[k].values.squeeze()) for k in ("r", "alpha", "a", "b")}
    perg = gg.loc[gg.index.repeat(gg["weight"].astype(int))].reset_index(drop=True)
    gdata = pd.DataFrame(
        {
            "customer_id": np.arange(len(perg)),
            "frequency": perg["x"],
            "monetary_value": perg["monetary"],
        }
    )
    t = time.perf_counter()
    g = GammaGammaModel(data=gdata, model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")})
    g.fit(method="map")
    gg_s = time.perf_counter() - t
    gpost = g.fit_result
    return {
        "bgnbd": bg_params,
        "bgnbd_s": bg_s,
        "gg": {
            "p": float(gpost["p"].values.squeeze()),
            "q": float(gpost["q"].values.squeeze()),
            "gamma": float(gpost["v"].values.squeeze()),
        },
        "gg_s": gg_s,
    }


def main() -> None:
    which, bg_path, gg_path = sys.argv[1:4]
    bg = pq.read_table(bg_path).to_pandas()
    gg = pq.read_table(gg_path).to_pandas()
    out = _lifetimes(bg, gg) if which == "lifetimes" else _pymc(bg, gg)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
