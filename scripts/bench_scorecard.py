"""The scorecard on public credit data, side by side with optbinning's default ``Scorecard``.

Protocol (``/work/shared/data/README.md``): the Taiwan card-default data, X2 (sex) dropped;
small books = 1,000 training rows (stratified, ``random_state`` 0–4) tested on 10,000 others;
the full split = 70/30 stratified, ``random_state=0``. Prints hold-out AUC per draw.

    .venv/bin/python scripts/bench_scorecard.py [--data PATH] [--full] [--small]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fincrm.analytics.scorecard import fit_scorecard

DATA = Path("/work/shared/data/taiwan_credit_default.csv")
SEEDS = range(5)


def optbinning_default(X: pd.DataFrame, y: np.ndarray):
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    card = Scorecard(
        binning_process=BinningProcess(list(X.columns)), estimator=LogisticRegression()
    )
    card.fit(X, y)
    return card.predict_proba


def ours(X: pd.DataFrame, y: np.ndarray):
    card = fit_scorecard(pl.from_pandas(X), y)
    return lambda Z: card.predict_proba(pl.from_pandas(Z))


def holdout_auc(fit, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    started = time.perf_counter()
    predict = fit(X_train, y_train)
    p = predict(X_test)
    p = p[:, 1] if p.ndim == 2 else p
    return float(roc_auc_score(y_test, p)), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--full", action="store_true", help="only the full split")
    parser.add_argument("--small", action="store_true", help="only the 1,000-row draws")
    args = parser.parse_args()
    frame = pd.read_csv(args.data)
    y = frame.pop("Y").to_numpy()
    X = frame.drop(columns=["ID", "X2"])
    models = {"fincrm": ours, "optbinning default": optbinning_default}
    rows = []
    if not args.full:
        for seed in SEEDS:
            X_train, X_rest, y_train, y_rest = train_test_split(
                X, y, train_size=1000, stratify=y, random_state=seed
            )
            X_test, _, y_test, _ = train_test_split(
                X_rest, y_rest, train_size=10_000, stratify=y_rest, random_state=seed
            )
            for name, fit in models.items():
                a, s = holdout_auc(fit, X_train, y_train, X_test, y_test)
                rows.append(("1,000 rows", seed, name, a, s))
                print(f"1,000 rows  seed {seed}  {name:<20} AUC {a:.4f}  {s:5.1f} s", flush=True)
    if not args.small:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=0
        )
        for name, fit in models.items():
            a, s = holdout_auc(fit, X_train, y_train, X_test, y_test)
            rows.append(("full split", 0, name, a, s))
            print(f"full split  seed 0  {name:<20} AUC {a:.4f}  {s:5.1f} s", flush=True)
    table = pl.DataFrame(rows, schema=["sample", "seed", "model", "auc", "seconds"], orient="row")
    print(
        table.group_by("sample", "model", maintain_order=True).agg(
            mean_auc=pl.col("auc").mean().round(4), seconds=pl.col("seconds").mean().round(1)
        )
    )


if __name__ == "__main__":
    main()
