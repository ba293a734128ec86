#!/usr/bin/env python3
"""Writes numeric anomaly data sets from the data scikit-learn ships inside its package (no
download), in the layout eval and peers.py read: <out>/<name>/<name>.csv with a header and a last
column is_anomaly.

  breastw  Wisconsin diagnostic breast cancer (sklearn load_breast_cancer: 569 rows, 30 numeric
           features): the 357 benign rows are inliers, 21 malignant rows drawn with seed 0 are the
           anomalies (378 rows, 5.6%, the size of ODDS "wbc").
  wine     UCI wine (sklearn load_wine: 178 rows, 13 numeric features): classes 1 and 2 (119 rows)
           are inliers, 10 class-0 rows drawn with seed 0 are the anomalies (129 rows, 7.8%, the
           size of ODDS "wine").
"""
import argparse
import csv
import os

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine


def write(out, name, columns, X, labels):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{name}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.replace(" ", "_") for c in columns] + ["is_anomaly"])
        for row, y in zip(X, labels):
            # repr keeps every digit the package ships
            w.writerow([repr(float(v)) for v in row] + [int(y)])
    print(f"{name}: {len(labels)} rows, {X.shape[1]} numeric columns, {int(np.sum(labels))} anomalies")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = np.random.default_rng(0)

    bc = load_breast_cancer()
    benign = np.flatnonzero(bc.target == 1)
    malignant = np.sort(rng.choice(np.flatnonzero(bc.target == 0), size=21, replace=False))
    rows = np.concatenate([benign, malignant])
    write(a.out, "breastw", list(bc.feature_names), bc.data[rows], np.isin(rows, malignant))

    wine = load_wine()
    inl = np.flatnonzero(wine.target != 0)
    out = np.sort(rng.choice(np.flatnonzero(wine.target == 0), size=10, replace=False))
    rows = np.concatenate([inl, out])
    write(a.out, "wine", list(wine.feature_names), wine.data[rows], np.isin(rows, out))


if __name__ == "__main__":
    main()
