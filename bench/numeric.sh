#!/usr/bin/env bash
# Numeric columns against the numeric peers, on numeric data sets that scikit-learn ships in its
# package (breastw, wine; see bench/python/numeric_data.py): gnsm with every column numeric
# (`eval --numeric '*'`) next to PyOD's IForest, ECOD and COPOD on standardised numbers, on the
# same splits, both protocols (semi: seeds 42-46). Writes results/numeric_bench.md and .json.
#
#   bash bench/numeric.sh            (about 5 min on 2 cores; needs the venv of bench/quality.sh:
#                                     run `bash bench/quality.sh --smoke` once to create it)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
THREADS=${THREADS:-2}
PY=$ROOT/bench/.venv/bin/python
WORK=$ROOT/results/tmp/numeric
if [ ! -x "$PY" ]; then
    echo "numeric.sh: no venv at bench/.venv; run 'bash bench/quality.sh --smoke' once to create it" >&2
    exit 2
fi
rm -rf "$WORK" && mkdir -p "$WORK/splits"
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
"$PY" bench/python/numeric_data.py --out "$WORK/data"
cargo build --release -q -p gnsm-eval --example eval
./target/release/examples/eval --data-dir "$WORK/data" --datasets breastw,wine --protocol both \
    --threads "$THREADS" --numeric '*' --splits-dir "$WORK/splits" --label "gnsm numeric" \
    --json "$WORK/gnsm.json" | tee "$WORK/gnsm.txt"
"$PY" bench/python/peers.py --data-dir "$WORK/data" --splits-dir "$WORK/splits" --input numeric \
    --methods iforest,ecod,copod --threads "$THREADS" --out "$WORK/peers.json" | tee "$WORK/peers.txt"
"$PY" - "$WORK" <<'PYEOF'
import json, sys
work = sys.argv[1]
g = json.load(open(f"{work}/gnsm.json"))
p = json.load(open(f"{work}/peers.json"))
rows = g["results"] if isinstance(g, dict) and "results" in g else g
peers = {(r["dataset"], r["protocol"]): r for r in p["results"]}
out = ["| data set | protocol | gnsm (numeric) | IForest | ECOD | COPOD | gnsm train s |", "|---|---|---|---|---|---|---|"]
summary = []
for r in rows:
    key = (r["dataset"], r["protocol"])
    pr = peers[key]
    cell = lambda a, s: f"{100*a:.2f} ± {100*s:.2f}" if s else f"{100*a:.2f}"
    out.append(f"| {key[0]} | {key[1]} | {cell(r['gnsm_auroc'], r.get('gnsm_auroc_std'))} | "
               + " | ".join(cell(pr[f'{m}_auroc'], pr.get(f'{m}_auroc_std')) for m in ('iforest', 'ecod', 'copod'))
               + f" | {r['train_seconds']:.1f} |")
    summary.append({"dataset": key[0], "protocol": key[1], "gnsm_auroc": r["gnsm_auroc"], "gnsm_ap": r["gnsm_ap"],
                    **{f"{m}_auroc": pr[f"{m}_auroc"] for m in ("iforest", "ecod", "copod")},
                    **{f"{m}_ap": pr[f"{m}_ap"] for m in ("iforest", "ecod", "copod")}})
text = "AUROC % (mean ± std over seeds 42-46 for semi; one run for unsup). Command: `bash bench/numeric.sh`.\n\n" + "\n".join(out) + "\n"
open("results/numeric_bench.md", "w").write("# Numeric columns against numeric peers\n\n" + text)
json.dump({"gnsm": g, "peers": p, "summary": summary}, open("results/numeric_bench.json", "w"), indent=1)
print(text)
PYEOF
