#!/usr/bin/env python3
"""Merges gnsm's eval JSON(s), the Python peers' JSON and the torch step timing into one report.

  report.py --gnsm A.json [--gnsm B.json ...] --peers P.json [--torch T.json]
            [--method-doc gnsm-method.md] --out-dir DIR

Writes DIR/quality_bench.md, DIR/quality_bench.json and DIR/quality_vs_time.png. The first
--gnsm file's label is "gnsm default" unless it says otherwise; IndepNLL and AVF come from the
first gnsm file that has the (dataset, protocol). Published figures (AUROC %, semi-supervised
protocol, mean of 5 seeds) are parsed from the method doc's "Numbers to beat" table and shown
marked "(published)"; they never enter ranks or win/lose lists.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np

PEERS = [("indep", "IndepNLL"), ("avf", "AVF"), ("iforest", "IForest"), ("ecod", "ECOD"), ("copod", "COPOD"), ("cbrw", "CBRW")]
PUBLISHED = ["GNSM", "IForest", "ECOD", "DAGMM", "DeepSVDD"]
PROTO_TEXT = {
    "semi": "semi-supervised protocol (inliers 80/10/10, test = held-out inliers + all anomalies); mean ± std over the seeds",
    "unsup": "unsupervised protocol (fit on every row, score every row); one run",
}


def load(path):
    with open(path) as f:
        return json.load(f)


def parse_published(doc_path):
    """{dataset: {method: AUROC %}} from the doc's table with header | dataset | IForest | ... | GNSM |."""
    if not doc_path or not os.path.exists(doc_path):
        return {}, f"method doc not found: {doc_path}"
    lines = open(doc_path).read().splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].lower() == "dataset" and all(m in cells for m in PUBLISHED):
            out = {}
            for row in lines[i + 2 :]:
                if not row.strip().startswith("|"):
                    break
                vals = [c.strip() for c in row.strip().strip("|").split("|")]
                rec = {}
                for name, v in zip(cells[1:], vals[1:]):
                    try:
                        rec[name] = float(v)
                    except ValueError:
                        pass
                out[vals[0]] = rec
            return out, None
    return {}, f"no table with columns {PUBLISHED} in {doc_path}"


def collect(gnsm_files, peers_file):
    """methods[(dataset, protocol)][method] = list of per-seed dicts (auroc, ap, train_s, score_s)."""
    data, order, notes, configs = {}, [], {}, []
    for k, path in enumerate(gnsm_files):
        j = load(path)
        label = j.get("label") or "gnsm"
        if k == 0 and label == "gnsm":
            label = "gnsm default"
        if label in order:
            label = f"{label} ({os.path.basename(path)})"
        order.append(label)
        configs.append({"label": label, "file": path, "config": j.get("config")})
        for r in j["results"]:
            key = (r["dataset"], r["protocol"])
            cell = data.setdefault(key, {})
            runs = r.get("runs")
            if runs is None:
                sys.exit(f"report: {path} has no per-seed 'runs' (built from an older eval.rs?)")
            cell[label] = [dict(x["methods"]["gnsm"], seed=x["seed"]) for x in runs]
            for m in ("indep", "avf"):
                if m not in cell:
                    cell[m] = [dict(x["methods"][m], seed=x["seed"]) for x in runs]
    peer_meta = {}
    if peers_file:
        j = load(peers_file)
        peer_meta = {"versions": j.get("versions"), "settings": j.get("settings")}
        for r in j["results"]:
            key = (r["dataset"], r["protocol"])
            cell = data.setdefault(key, {})
            for x in r["runs"]:
                for m, v in x["methods"].items():
                    cell.setdefault(m, []).append(dict(v, seed=x["seed"]))
                    why = v.get("note") or v.get("skipped") or v.get("error")
                    if why:
                        notes.setdefault((key, m), set()).add(why)
    return data, order, notes, configs, peer_meta


def stat(runs, field):
    vals = [r[field] for r in runs if r.get(field) is not None and not (isinstance(r[field], float) and math.isnan(r[field]))]
    if not vals:
        return None, None, 0
    return float(np.mean(vals)), float(np.std(vals)), len(vals)


def ranks(values):
    """Average ranks, 1 = largest value."""
    items = sorted(values.items(), key=lambda kv: -kv[1])
    out, i = {}, 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1][1] == items[i][1]:
            j += 1
        for k in range(i, j + 1):
            out[items[k][0]] = (i + j) / 2 + 1
        i = j + 1
    return out


def fmt(mean, std, n, with_std):
    if mean is None:
        return "–"
    s = f"{100 * mean:.2f}"
    if with_std and n > 1:
        s += f" ± {100 * std:.2f}"
    return s


def fmt_s(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 0.01:
        return f"{v:.2f}"
    return f"{v:.1e}"


def plot(summary, methods, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    protos = [p for p in ("semi", "unsup") if p in summary]
    if not protos:
        return
    markers = ["o", "s", "D", "^", "v", "P", "X", "*", "<", ">", "h"]
    mk = {m: markers[i % len(markers)] for i, m in enumerate(methods)}
    datasets = sorted({d for p in protos for d in summary[p]})
    cmap = plt.get_cmap("tab10")
    col = {d: cmap(i % 10) for i, d in enumerate(datasets)}
    fig, axes = plt.subplots(1, len(protos), figsize=(7.5 * len(protos), 6), squeeze=False)
    floor = 1e-4
    for ax, p in zip(axes[0], protos):
        for d in datasets:
            for m in methods:
                c = summary[p].get(d, {}).get(m)
                if not c or c["auroc"] is None or c["train_s"] is None:
                    continue
                ax.scatter(max(c["train_s"], floor), 100 * c["auroc"], marker=mk[m], color=col[d], s=55,
                           edgecolors="black", linewidths=0.5, alpha=0.9)
        ax.set_xscale("log")
        ax.set_xlabel(f"fit / training seconds per run (log; values < {floor:g} s drawn at {floor:g})")
        ax.set_ylabel("AUROC %")
        ax.set_title(f"{p} protocol: quality vs. fit time")
        ax.grid(True, which="both", alpha=0.3)
    from matplotlib.lines import Line2D

    mh = [Line2D([], [], marker=mk[m], color="gray", markeredgecolor="black", linestyle="", markersize=8, label=names[m]) for m in methods]
    dh = [Line2D([], [], marker="o", color=col[d], linestyle="", markersize=8, label=d) for d in datasets]
    fig.legend(handles=mh, title="method (marker)", loc="center left", bbox_to_anchor=(1.0, 0.65), frameon=False)
    fig.legend(handles=dh, title="data set (colour)", loc="center left", bbox_to_anchor=(1.0, 0.2), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gnsm", action="append", required=True, help="eval --json output (repeatable; the first is the default setting)")
    ap.add_argument("--peers", help="peers.py output")
    ap.add_argument("--torch", help="torch_step.py output")
    ap.add_argument("--method-doc", default="/work/shared/docs/gnsm-method.md")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--command", default="", help="the command line that produced the inputs (shown in the report)")
    a = ap.parse_args()

    data, gnsm_labels, notes, configs, peer_meta = collect(a.gnsm, a.peers)
    published, pub_err = parse_published(a.method_doc)
    names = {m: n for m, n in PEERS}
    names.update({g: g for g in gnsm_labels})
    methods = gnsm_labels + [m for m, _ in PEERS]

    # summary[proto][dataset][method] = {auroc, auroc_std, ap, ap_std, n, train_s, score_s}
    summary = {}
    for (d, p), cell in data.items():
        for m in methods:
            runs = cell.get(m)
            if not runs:
                continue
            au, aus, n = stat(runs, "auroc")
            apm, aps, _ = stat(runs, "ap")
            tr, _, _ = stat(runs, "train_s")
            sc, _, _ = stat(runs, "score_s")
            summary.setdefault(p, {}).setdefault(d, {})[m] = {
                "auroc": au, "auroc_std": aus, "ap": apm, "ap_std": aps, "n": n, "train_s": tr, "score_s": sc,
                "seeds": [r["seed"] for r in runs],
                "runs": [{k: r.get(k) for k in ("seed", "auroc", "ap", "train_s", "score_s")} for r in runs]}

    md = ["# gnsm vs. Python peers: quality and speed", ""]
    md.append("Generated by `bench/python/report.py` (run through `bench/quality.sh`). AUROC and AP in %, anomaly = "
              "positive class, higher = better. All measured methods use the **same splits** (eval.rs writes them, "
              "peers.py reads them). Peers: PyOD IForest/ECOD/COPOD on one-hot input (encoder fitted on the fit rows, "
              "unseen categories -> all-zero block), CBRW from `coupled-biased-random-walks`; IndepNLL and AVF are "
              "gnsm-core's training-free baselines. \"(published)\" columns are the paper's figures from the method "
              "doc (semi protocol, mean of 5 seeds, the authors' splits), not measured here and not ranked.")
    if a.command:
        md += ["", f"Command: `{a.command}`"]
    md += ["", "Settings: " + "; ".join(f"**{c['label']}**: " + (", ".join(f"{k}={v}" for k, v in (c["config"] or {}).items()
                                                                              if k in ("width", "depth", "steps", "max_seconds", "threads")))
                                        for c in configs)]
    if peer_meta.get("versions"):
        md += ["", "Python: " + ", ".join(f"{k} {v}" for k, v in peer_meta["versions"].items())]
    if pub_err:
        md += ["", f"Published figures unavailable: {pub_err}"]

    out_json = {"methods": methods, "gnsm_settings": configs, "peers": peer_meta, "published_auroc_semi": published,
                "protocols": {}}
    for p in ("semi", "unsup"):
        if p not in summary:
            continue
        S = summary[p]
        datasets = sorted(S)
        present = [m for m in methods if any(m in S[d] for d in datasets)]
        pub_cols = PUBLISHED if p == "semi" and published else []
        md += ["", f"## {p}: {PROTO_TEXT[p]}", ""]
        seeds = sorted({s for d in datasets for m in S[d] for s in S[d][m]["seeds"]})
        md.append(f"Seeds: {', '.join(map(str, seeds))}.")
        md += ["", "### AUROC %", ""]
        md.append("| data set | " + " | ".join(names[m] for m in present) + "".join(f" | {c} (published)" for c in pub_cols) + " |")
        md.append("|---" * (1 + len(present) + len(pub_cols)) + "|")
        rank_acc = {m: [] for m in present}
        full = [m for m in present if all(m in S[d] and S[d][m]["auroc"] is not None for d in datasets)]
        for d in datasets:
            best = max((S[d][m]["auroc"] for m in present if m in S[d] and S[d][m]["auroc"] is not None), default=None)
            cells = []
            for m in present:
                c = S[d].get(m)
                s = fmt(c["auroc"], c["auroc_std"], c["n"], p == "semi") if c else "–"
                if c and best is not None and c["auroc"] is not None and abs(c["auroc"] - best) < 1e-12:
                    s = f"**{s}**"
                if (((d, p), m) in notes):
                    s += " ¹"
                cells.append(s)
            pubs = [f"{published.get(d, {}).get(c):.2f}" if published.get(d, {}).get(c) is not None else "–" for c in pub_cols]
            md.append(f"| {d} | " + " | ".join(cells + pubs) + " |")
            # ranks among the methods measured on every data set (a partial one would shift the others)
            r = ranks({m: S[d][m]["auroc"] for m in full if m in S[d] and S[d][m]["auroc"] is not None})
            for m, v in r.items():
                rank_acc[m].append(v)
        mean_rank = {m: (float(np.mean(v)) if v else None) for m, v in rank_acc.items()}
        md.append("| **mean rank** (1 = best) | " + " | ".join(
            f"{mean_rank[m]:.2f}" if mean_rank[m] is not None else f"– ({sum(m in S[d] for d in datasets)} sets)"
            for m in present) + " |" * (len(pub_cols)) + " |")
        # mean AUROC over the data sets, only for methods measured on all of them (else not comparable)
        def mean_auroc(m):
            v = [S[d][m]["auroc"] for d in datasets if m in S[d] and S[d][m]["auroc"] is not None]
            return f"{100 * float(np.mean(v)):.2f}" if len(v) == len(datasets) else f"– ({len(v)} sets)"
        md.append("| **mean AUROC** | " + " | ".join(mean_auroc(m) for m in present) + " |" * (len(pub_cols)) + " |")
        md += ["", "Bold = best measured AUROC on that data set. Mean rank: methods ranked per data set by mean AUROC "
               "(ties share the average rank), averaged over data sets; measured methods on every data set only. Mean AUROC: the plain "
               "average over the data sets (a method missing a set gets none).", "", "### AP %", ""]
        md.append("| data set | " + " | ".join(names[m] for m in present) + " |")
        md.append("|---" * (1 + len(present)) + "|")
        ap_rank_acc = {m: [] for m in present}
        full_ap = [m for m in present if all(m in S[d] and S[d][m]["ap"] is not None for d in datasets)]
        for d in datasets:
            best_ap = max((S[d][m]["ap"] for m in present if m in S[d] and S[d][m]["ap"] is not None), default=None)
            cells = []
            for m in present:
                c = S[d].get(m)
                s_ = fmt(c["ap"], c["ap_std"], c["n"], p == "semi") if c else "–"
                if c and best_ap is not None and c["ap"] is not None and abs(c["ap"] - best_ap) < 1e-12:
                    s_ = f"**{s_}**"
                cells.append(s_)
            md.append(f"| {d} | " + " | ".join(cells) + " |")
            r = ranks({m: S[d][m]["ap"] for m in full_ap if m in S[d] and S[d][m]["ap"] is not None})
            for m, v in r.items():
                ap_rank_acc[m].append(v)
        mean_rank_ap = {m: (float(np.mean(v)) if v else None) for m, v in ap_rank_acc.items()}
        md.append("| **mean rank** (1 = best) | " + " | ".join(
            f"{mean_rank_ap[m]:.2f}" if mean_rank_ap[m] is not None else f"– ({sum(m in S[d] for d in datasets)} sets)"
            for m in present) + " |")
        def mean_ap(m):
            v = [S[d][m]["ap"] for d in datasets if m in S[d] and S[d][m]["ap"] is not None]
            return f"{100 * float(np.mean(v)):.2f}" if len(v) == len(datasets) else f"– ({len(v)} sets)"
        md.append("| **mean AP** | " + " | ".join(mean_ap(m) for m in present) + " |")
        md += ["", "Bold = best measured AP on that data set; mean rank as for AUROC."]
        md += ["", "### Fit / training seconds per run (mean over seeds; gnsm = Model::fit_coded, peers = fit)", ""]
        md.append("| data set | " + " | ".join(names[m] for m in present) + " |")
        md.append("|---" * (1 + len(present)) + "|")
        for d in datasets:
            md.append(f"| {d} | " + " | ".join(fmt_s(S[d][m]["train_s"]) if m in S[d] else "–" for m in present) + " |")
        md += ["", "Scoring seconds per run (test rows):", ""]
        md.append("| data set | " + " | ".join(names[m] for m in present) + " |")
        md.append("|---" * (1 + len(present)) + "|")
        for d in datasets:
            md.append(f"| {d} | " + " | ".join(fmt_s(S[d][m]["score_s"]) if m in S[d] else "–" for m in present) + " |")

        # where gnsm wins / loses against the best measured peer
        peer_keys = [m for m, _ in PEERS if m in present]
        wl = {}
        md += ["", "### Where gnsm wins / loses (AUROC, against the best measured peer)", ""]
        for g in [x for x in gnsm_labels if x in present]:
            wins, losses = [], []
            for d in datasets:
                if g not in S[d] or S[d][g]["auroc"] is None:
                    continue
                pv = {m: S[d][m]["auroc"] for m in peer_keys if m in S[d] and S[d][m]["auroc"] is not None}
                if not pv:
                    continue
                bm = max(pv, key=pv.get)
                margin = 100 * (S[d][g]["auroc"] - pv[bm])
                (wins if margin >= 0 else losses).append((d, margin, names[bm]))
            wl[g] = {"wins": [{"dataset": d, "margin": m, "best_peer": b} for d, m, b in wins],
                     "losses": [{"dataset": d, "margin": m, "best_peer": b} for d, m, b in losses]}
            md.append(f"* **{g}** best or tied on {len(wins)} of {len(wins) + len(losses)}: "
                      + (", ".join(f"{d} (+{m:.2f} over {b})" for d, m, b in sorted(wins, key=lambda x: -x[1])) or "none"))
            md.append(f"* **{g}** below the best peer on {len(losses)}: "
                      + (", ".join(f"{d} ({m:.2f} vs {b})" for d, m, b in sorted(losses, key=lambda x: x[1])) or "none"))
        pnotes = [(d, m, w) for ((d, pp), m), ws in sorted(notes.items()) if pp == p for w in sorted(ws)]
        if pnotes:
            md += ["", "¹ Notes from the peers run (subsamples, unseen values, skips):", ""]
            md += [f"* {d} / {names.get(m, m)}: {w}" for d, m, w in pnotes]
        out_json["protocols"][p] = {"summary": S, "mean_rank": mean_rank, "mean_rank_ap": mean_rank_ap, "wins_losses": wl}

    # the default scorer ("auto", ADR 016) against the exact one on the same models
    default = gnsm_labels[0] if gnsm_labels else None
    rows = []
    for (d, p), cell in sorted(data.items()):
        runs = cell.get(default) or []
        chosen = sorted({r.get("scorer") or "exact" for r in runs})
        fast = [r for r in runs if r.get("exact_auroc") is not None]
        rec = {"dataset": d, "protocol": p, "scorer": "/".join(chosen), "seeds": len(runs)}
        if fast:
            rec.update(
                delta_auroc=100 * sum(r["auroc"] - r["exact_auroc"] for r in fast) / len(fast),
                delta_ap=100 * sum(r["ap"] - r["exact_ap"] for r in fast) / len(fast),
                spearman=sum(r["spearman_exact"] for r in fast) / len(fast),
                fast_seeds=len(fast),
            )
        rows.append(rec)
    if rows and any("scorer" in r for c in data.values() for r in c.get(default) or []):
        out_json["default_scorer_vs_exact"] = rows
        md += ["", f"## The default scorer against the exact one ({default})", "",
               "`\"scorer\": \"auto\"` fits the fast scorer when the training rows hold at least 30,000 distinct rows "
               "(ADR 016). Where it did, the exact scorer scored the same test rows with the same model: Δ = fast − exact "
               "(points, mean over seeds), Spearman between the two scores. Elsewhere the default is the exact scorer.", "",
               "| data set | protocol | default scorer | Δ AUROC | Δ AP | Spearman |", "|---|---|---|---|---|---|"]
        for r in rows:
            if "delta_auroc" in r:
                md.append(f"| {r['dataset']} | {r['protocol']} | {r['scorer']} | {r['delta_auroc']:+.2f} | {r['delta_ap']:+.2f} | {r['spearman']:.4f} |")
            else:
                md.append(f"| {r['dataset']} | {r['protocol']} | {r['scorer']} | 0 (same scorer) | 0 | 1 |")

    if a.torch and os.path.exists(a.torch):
        t = load(a.torch)
        out_json["torch_step"] = t
        sh = t.get("shape", {})
        md += ["", "## Training step time: gnsm-core vs. PyTorch (CPU)", "",
               f"Same network and loss (W={sh.get('width')}, B={sh.get('depth')}, batch {sh.get('batch')}; one step = noise + "
               "forward + backward + clip + AdamW + EMA), synthetic table of examples/bench.rs. "
               "gnsm: `examples/bench --train-only`; PyTorch: bench/python/torch_step.py.", "",
               "| implementation | threads | ms/step |", "|---|---|---|"]
        tt = t.get("torch", {})
        if tt.get("available"):
            md += [f"| PyTorch {tt['version']} | {r['threads']} | {r['ms_per_step']:.1f} |" for r in tt["runs"]]
        else:
            md.append(f"| PyTorch not measured: {tt.get('reason')} | | |")
        gg = t.get("gnsm", {})
        if gg.get("available"):
            md += [f"| gnsm-core | {r['threads']} | {r['ms_per_step']:.1f} |" for r in gg["runs"]]
        else:
            md.append(f"| gnsm-core not measured: {gg.get('reason')} | | |")

    os.makedirs(a.out_dir, exist_ok=True)
    png = os.path.join(a.out_dir, "quality_vs_time.png")
    plot(summary, methods, names, png)
    md += ["", "![AUROC vs training seconds](quality_vs_time.png)", ""]
    with open(os.path.join(a.out_dir, "quality_bench.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(a.out_dir, "quality_bench.json"), "w") as f:
        json.dump(out_json, f, indent=1)
    print("\n".join(md))


if __name__ == "__main__":
    main()
