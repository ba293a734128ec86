#!/usr/bin/env bash
# The segmentation-map benchmark (issue 12): horse (real ISNet failures, 5 half splits) and CamVid
# (graded corruptions), gnsm mask-only and image-conditioned against the per-pixel prior and shape
# statistics, with training time, scoring speed and the GEMM peak measured in the same run.
#
#   bash bench/maps.sh                      -> results/maps_bench.{json,txt,log}, results/maps_horse_figure.png
#   bash bench/maps.sh --smoke              horse only, 1 split, 32x32, 15 s of training a model; temp dir;
#                                           checks the JSON and the figure and prints "maps smoke: ok"
#   bash bench/maps.sh [--out DIR] [extra arguments for examples/maps, e.g. --splits 2 --max-seconds 300]
#
# Environment: THREADS (default 2), DATA_SEG (default ../shared/data-seg next to the repo).
# A full run takes about 50 minutes on 2 cores (10 models of 2 minutes, ~2,500 maps scored).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
THREADS=${THREADS:-2}
DATA_SEG=${DATA_SEG:-$ROOT/../shared/data-seg}
OUT=$ROOT/results
SMOKE=0
EXTRA=()
while (($#)); do
    case "$1" in
        --smoke) SMOKE=1; OUT=$(mktemp -d /tmp/gnsm-maps-smoke.XXXXXX); EXTRA+=(--sets horse --splits 1 --side 32 --max-seconds 15); shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
[ -d "$DATA_SEG/weizmann-horse-isnet" ] || { echo "maps bench: no data in $DATA_SEG (set DATA_SEG)" >&2; exit 1; }
mkdir -p "$OUT"
cargo build --locked --release -p gnsm-eval --example maps
start=$(date +%s)
./target/release/examples/maps --data "$DATA_SEG" --threads "$THREADS" \
    --json "$OUT/maps_bench.json" --figure "$OUT/maps_horse_figure.png" "${EXTRA[@]}" \
    > "$OUT/maps_bench.txt" 2> "$OUT/maps_bench.log"
cat "$OUT/maps_bench.txt"
echo "maps bench: $(( $(date +%s) - start )) s; results in $OUT (command: bash bench/maps.sh ${EXTRA[*]})"
if [ "$SMOKE" = 1 ]; then
    # every horse subset has a finite rho for both gnsm variants and the baselines, and the figure is a PNG
    python3 - "$OUT/maps_bench.json" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1]))
recs = {(r["subset"], r["method"]): r for r in doc["records"] if r["dataset"] == "horse"}
for m in ["gnsm_mask", "gnsm_image", "pixel_prior", "area_z", "components_z"]:
    for s in ["small", "medium", "pooled"]:
        r = recs.get((s, m))
        assert r is not None and r["spearman_dice"] is not None and math.isfinite(r["spearman_dice"]), (s, m)
assert recs[("pooled", "gnsm_image")]["maps_per_s"] > 0 and doc["gemm_peak_gflops"] > 0
PY
    head -c 8 "$OUT/maps_horse_figure.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a"
    echo "maps smoke: ok"
fi
