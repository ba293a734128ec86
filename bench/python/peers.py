#!/usr/bin/env python3
"""Python peers on gnsm's own splits: PyOD IForest, ECOD, COPOD (one-hot input) and CBRW.

Reads a labelled CSV exactly as gnsm-eval's dataset.rs does (header, last column is_anomaly in
{0,1,0.0,1.0}, every feature value a string, the empty string an ordinary category, .csv or
.csv.gz) and the split files written by `eval --splits-dir DIR`
(`DIR/<dataset>.<protocol>.<seed>.json` = {"fit": [...], "test": [...]}, 0-based data-row
indices). For each split every method is fitted on the fit rows and scores the test rows; the
JSON has the same per-seed shape as eval.rs:

  {"label": ..., "results": [{"dataset", "protocol", "seeds", "<m>_auroc", "<m>_auroc_std",
     "<m>_ap", ..., "runs": [{"seed": 42, "methods": {"iforest": {"auroc", "ap", "train_s",
     "score_s", "note"?}, ...}}], "notes": {...}}]}

A method that is skipped or fails on a split gets {"auroc": null, ..., "skipped"|"error": why}.
Large sets: see --max-cells (ECOD/COPOD fit-row subsample, chunked scoring) and
--iforest-max-fit-rows; every subsample is stated in the output, never silent.
"""
import argparse
import csv
import gzip
import json
import os
import platform
import re
import sys
import time
import traceback

import numpy as np

METHODS = ["iforest", "ecod", "copod", "cbrw"]


def read_labeled_csv(path):
    """Columns, rows (lists of str) and labels (bool), as gnsm-core's read_labeled_csv."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if len(header) < 2 or header[-1].strip().lower() != "is_anomaly":
            raise ValueError(f"{path}: the last column must be is_anomaly")
        rows, labels = [], []
        for i, rec in enumerate(reader):
            if len(rec) != len(header):
                raise ValueError(f"{path}: data row {i + 1} has {len(rec)} fields, header has {len(header)}")
            lab = rec[-1].strip()
            if lab in ("1", "1.0"):
                labels.append(True)
            elif lab in ("0", "0.0"):
                labels.append(False)
            else:
                raise ValueError(f"{path}: data row {i + 1}: is_anomaly is {lab!r}")
            rows.append(rec[:-1])
    return header[:-1], rows, np.array(labels, dtype=bool)


def find_dataset(data_dir, name):
    for p in (os.path.join(data_dir, name, f"{name}.csv"), os.path.join(data_dir, name, f"{name}.csv.gz")):
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(f"data set {name!r} not found under {data_dir}")


def metrics(scores, labels):
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = np.asarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        # a broken score must never look anomalous (as gnsm-eval's metrics treat NaN)
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        scores = np.where(np.isneginf(scores), np.min(scores[np.isfinite(scores)], initial=0.0) - 1.0, scores)
    return float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores))


class Runner:
    """Runs the methods on one split."""

    def __init__(self, args):
        self.args = args

    def subsample(self, idx, cap, seed):
        if len(idx) <= cap:
            return idx, None
        rng = np.random.default_rng(seed)
        sub = np.sort(rng.choice(idx, size=cap, replace=False))
        return sub, f"fit on a seeded random subsample of {cap} of {len(idx)} fit rows"

    def run_pyod(self, method, X_all_sparse, fit, test, labels, seed):
        """IForest / ECOD / COPOD on dense one-hot blocks (PyOD needs dense arrays)."""
        from pyod.models.copod import COPOD
        from pyod.models.ecod import ECOD
        from pyod.models.iforest import IForest

        a = self.args
        d = X_all_sparse.shape[1]
        notes = []
        if method == "iforest":
            # IsolationForest draws 256 rows per tree: a fit subsample only bounds memory
            fit_rows, note = self.subsample(fit, a.iforest_max_fit_rows, seed)
            chunk = max(100, int(a.max_cells // max(d, 1)))
            model = IForest(random_state=seed, n_jobs=a.threads)
        else:
            # ECOD/COPOD score by ECDFs over train + the scored rows (PyOD concatenates them):
            # memory is ~10 float64 arrays of (fit + chunk) x D
            fit_cap = max(100, int(a.max_cells // max(d, 1)) // 2)
            fit_rows, note = self.subsample(fit, fit_cap, seed)
            chunk = max(100, int(a.max_cells // max(d, 1)) - len(fit_rows))
            model = (ECOD if method == "ecod" else COPOD)(n_jobs=1)
        if note:
            notes.append(note)
        t0 = time.perf_counter()
        Xf = X_all_sparse[fit_rows].toarray().astype(np.float64)
        model.fit(Xf)
        del Xf
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        parts = []
        for s in range(0, len(test), chunk):
            Xt = X_all_sparse[test[s : s + chunk]].toarray().astype(np.float64)
            parts.append(model.decision_function(Xt))
        scores = np.concatenate(parts) if parts else np.zeros(0)
        score_s = time.perf_counter() - t1
        if method != "iforest" and len(test) > chunk:
            notes.append(f"test rows scored in chunks of {chunk} (ECDFs over fit rows + one chunk, PyOD is transductive)")
        auroc, ap = metrics(scores, labels)
        out = {"auroc": auroc, "ap": ap, "train_s": train_s, "score_s": score_s}
        if notes:
            out["note"] = "; ".join(notes)
        return out

    def run_cbrw(self, columns, rows, fit, test, labels, seed):
        from coupled_biased_random_walks import CBRW

        a = self.args
        fit_rows, note = self.subsample(fit, a.cbrw_max_fit_rows, seed)
        # feature names made unique by position; values stay the CSV strings
        names = [f"{j}:{c}" for j, c in enumerate(columns)]
        t0 = time.perf_counter()
        det = CBRW(ignore_unknown=True)
        det.add_observations(dict(zip(names, rows[i])) for i in fit_rows)
        det.fit()
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        scores = det.score([dict(zip(names, rows[i])) for i in test])
        score_s = time.perf_counter() - t1
        auroc, ap = metrics(scores, labels)
        out = {"auroc": auroc, "ap": ap, "train_s": train_s, "score_s": score_s}
        notes = [note] if note else []
        # the package scores a value unseen in the fit rows as 0 (ignore_unknown=True), i.e. normal
        seen = [set() for _ in columns]
        for i in fit_rows:
            for j, v in enumerate(rows[i]):
                seen[j].add(v)
        n_unseen = sum(any(v not in seen[j] for j, v in enumerate(rows[i])) for i in test)
        if n_unseen:
            notes.append(f"{n_unseen} test rows hold values unseen in fit rows; CBRW(ignore_unknown=True) scores those values 0")
        if notes:
            out["note"] = "; ".join(notes)
        return out


def versions():
    out = {"python": platform.python_version()}
    for mod in ["numpy", "scipy", "sklearn", "pyod", "coupled_biased_random_walks"]:
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception as e:  # noqa: BLE001
            out[mod] = f"not importable: {e}"
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="/work/shared/data")
    p.add_argument("--splits-dir", required=True)
    p.add_argument("--datasets", default="", help="comma list; default: every data set with split files")
    p.add_argument("--protocol", default="both", choices=["semi", "unsup", "both"])
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--out", required=True)
    p.add_argument("--label", default="python peers")
    p.add_argument("--threads", type=int, default=2, help="IForest n_jobs (ECOD/COPOD run with n_jobs=1)")
    p.add_argument("--max-cells", type=float, default=3e7,
                   help="bound on dense rows x one-hot dims per PyOD call (ECOD/COPOD fit subsample and score chunks)")
    p.add_argument("--iforest-max-fit-rows", type=int, default=100_000)
    p.add_argument("--cbrw-max-fit-rows", type=int, default=10**9, help="default: no subsample")
    p.add_argument("--input", default="onehot", choices=["onehot", "numeric"],
                   help="numeric: every feature is a number, standardised on the fit rows (no CBRW)")
    a = p.parse_args()

    from sklearn.preprocessing import OneHotEncoder

    methods = [m for m in a.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        sys.exit(f"peers: unknown method(s) {bad}; known: {METHODS}")
    protocols = ["semi", "unsup"] if a.protocol == "both" else [a.protocol]
    pat = re.compile(r"^(?P<ds>[^.]+)\.(?P<proto>semi|unsup)\.(?P<seed>\d+)\.json$")
    found = {}
    for fn in sorted(os.listdir(a.splits_dir)):
        m = pat.match(fn)
        if m and m["proto"] in protocols:
            found.setdefault((m["ds"], m["proto"]), []).append(int(m["seed"]))
    wanted = [d for d in a.datasets.split(",") if d] or sorted({d for d, _ in found})
    runner = Runner(a)
    results, failures = [], 0
    for ds in wanted:
        todo = [(proto, sorted(found[(ds, proto)])) for proto in protocols if (ds, proto) in found]
        if not todo:
            print(f"peers: no split files for {ds} ({'/'.join(protocols)}) in {a.splits_dir}", file=sys.stderr)
            failures += 1
            continue
        columns, rows, labels_all = read_labeled_csv(find_dataset(a.data_dir, ds))
        cat_all = np.array(rows, dtype=object)
        for proto, seeds in todo:
            runs = []
            for seed in seeds:
                with open(os.path.join(a.splits_dir, f"{ds}.{proto}.{seed}.json")) as f:
                    sp = json.load(f)
                fit = np.array(sp["fit"], dtype=np.int64)
                test = np.array(sp["test"], dtype=np.int64)
                labels = labels_all[test]
                if a.input == "numeric":
                    # numbers standardised with the fit rows' mean and spread (as gnsm z-scores)
                    import scipy.sparse
                    from sklearn.preprocessing import StandardScaler
                    num = cat_all.astype(np.float64)
                    X = scipy.sparse.csr_matrix(StandardScaler().fit(num[fit]).transform(num))
                else:
                    # encoder fitted on the fit rows; unseen categories -> all-zero block
                    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=True, dtype=np.float32)
                    enc.fit(cat_all[fit])
                    X = enc.transform(cat_all).tocsr()
                per = {}
                for m in methods:
                    t = time.perf_counter()
                    try:
                        if m == "cbrw" and a.input == "numeric":
                            per[m] = {"auroc": None, "ap": None, "train_s": None, "score_s": None, "skipped": "CBRW models categories only"}
                            continue
                        if m == "cbrw":
                            per[m] = runner.run_cbrw(columns, rows, fit, test, labels, seed)
                        else:
                            per[m] = runner.run_pyod(m, X, fit, test, labels, seed)
                    except MemoryError as e:
                        per[m] = {"auroc": None, "ap": None, "train_s": None, "score_s": None, "skipped": f"out of memory: {e}"}
                        failures += 1
                    except Exception as e:  # noqa: BLE001
                        traceback.print_exc()
                        per[m] = {"auroc": None, "ap": None, "train_s": None, "score_s": None, "error": f"{type(e).__name__}: {e}"}
                        failures += 1
                    r = per[m]
                    shown = "n/a" if r["auroc"] is None else f"AUROC {100 * r['auroc']:.2f} AP {100 * r['ap']:.2f}"
                    print(f"  {ds:<9} {proto:<5} seed {seed} {m:<8} {shown}  ({time.perf_counter() - t:.1f} s)"
                          + (f"  [{r.get('note') or r.get('skipped') or r.get('error')}]" if len(r) > 4 else ""),
                          flush=True)
                runs.append({"seed": seed, "methods": per})
            row = {"dataset": ds, "protocol": proto, "seeds": len(seeds), "n_rows": len(rows),
                   "onehot_dim": int(X.shape[1]), "runs": runs}
            for m in methods:
                au = [r["methods"][m]["auroc"] for r in runs if r["methods"][m]["auroc"] is not None]
                ap = [r["methods"][m]["ap"] for r in runs if r["methods"][m]["ap"] is not None]
                tr = [r["methods"][m]["train_s"] for r in runs if r["methods"][m]["train_s"] is not None]
                row[f"{m}_auroc"] = float(np.mean(au)) if au else None
                # population std over seeds, as gnsm-core's mean_std
                row[f"{m}_auroc_std"] = float(np.std(au)) if au else None
                row[f"{m}_ap"] = float(np.mean(ap)) if ap else None
                row[f"{m}_train_seconds"] = float(np.mean(tr)) if tr else None
            results.append(row)
    body = {
        "label": a.label,
        "versions": versions(),
        "settings": {"threads": a.threads, "max_cells": a.max_cells, "iforest_max_fit_rows": a.iforest_max_fit_rows,
                     "cbrw_max_fit_rows": a.cbrw_max_fit_rows,
                     "input": ("numbers, StandardScaler fitted on fit rows" if a.input == "numeric"
                               else "one-hot, OneHotEncoder(handle_unknown='ignore') fitted on fit rows"),
                     "iforest": "pyod IForest(random_state=seed) defaults (100 trees, 256 rows/tree)",
                     "ecod": "pyod ECOD(n_jobs=1)", "copod": "pyod COPOD(n_jobs=1)",
                     "cbrw": "coupled_biased_random_walks CBRW(ignore_unknown=True), deterministic (seed unused)"},
        "results": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(body, f, indent=1)
    if failures:
        print(f"peers: {failures} method run(s) failed or were skipped; see {a.out}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
