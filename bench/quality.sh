#!/usr/bin/env bash
# One command that compares gnsm's quality and speed with the Python peers people use.
#
#   bash bench/quality.sh                 all ten data sets, both protocols -> results/quality_bench.{md,json,png}
#   bash bench/quality.sh --smoke         solar, semi, seed 42, gnsm --steps 50, no torch; report in a temp dir
#   bash bench/quality.sh --datasets solar,cmc --protocol semi [--out DIR] [--no-torch] [--no-large]
#
# Steps: build examples/eval (+ examples/bench), create or reuse the venv bench/.venv (pinned
# bench/python/requirements*.txt, installed from PyPI through pip only), gnsm default on every
# (data set, protocol, seed) writing its splits, the larger gnsm setting on the semi protocol
# (GNSM_LARGE_ARGS, default "--width 512"), the Python peers on the same splits, the PyTorch vs.
# gnsm training-step timing, and bench/python/report.py. Scratch (splits, raw JSON, logs) goes to
# results/tmp/quality/ (gitignored) or, for --smoke, a temp dir. Exits non-zero on any failure.
#
# Environment: THREADS (default 2: gnsm --threads, IForest n_jobs, BLAS threads),
# DATA_DIR (default ../shared/data next to the repo), GNSM_LARGE_ARGS / GNSM_LARGE_LABEL,
# GNSM_EXTRA_ARGS (appended to every eval run), PYTHON (interpreter for the venv, default python3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ALL_DATASETS=bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r
DATASETS=$ALL_DATASETS
PROTOCOL=both
SMOKE=0
TORCH=1
LARGE=1
OUT=""
THREADS=${THREADS:-2}
DATA_DIR=${DATA_DIR:-$ROOT/../shared/data}
GNSM_LARGE_ARGS=${GNSM_LARGE_ARGS:---width 512}
GNSM_LARGE_LABEL=${GNSM_LARGE_LABEL:-gnsm W512}
GNSM_EXTRA_ARGS=${GNSM_EXTRA_ARGS:-}
PYTHON=${PYTHON:-python3}
VENV=$ROOT/bench/.venv
CMDLINE="bash bench/quality.sh $*"

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case "$1" in
        --datasets) DATASETS=${2:?--datasets needs a value}; shift 2 ;;
        --protocol) PROTOCOL=${2:?--protocol needs a value}; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --no-torch) TORCH=0; shift ;;
        --no-large) LARGE=0; shift ;;
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        --data-dir) DATA_DIR=${2:?--data-dir needs a directory}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "quality.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$PROTOCOL" in semi|unsup|both) ;; *) echo "quality.sh: --protocol must be semi, unsup or both" >&2; exit 2 ;; esac

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
T0=$SECONDS
EVAL_ARGS=()
if ((SMOKE)); then
    DATASETS=solar; PROTOCOL=semi; TORCH=0
    EVAL_ARGS=(--seeds 42 --steps 50)
    WORK=$(mktemp -d /tmp/gnsm-quality-smoke.XXXXXX)
    OUT=${OUT:-$WORK/report}
else
    WORK=$ROOT/results/tmp/quality
    rm -rf "$WORK"
    OUT=${OUT:-$ROOT/results}
fi
mkdir -p "$WORK/splits" "$OUT"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
say "data $DATA_DIR, data sets $DATASETS, protocol $PROTOCOL, threads $THREADS, scratch $WORK, report -> $OUT"

# --- 1. Rust: the eval example (and bench for the step timing) ------------------------------------
say "building gnsm-eval examples (release)"
examples=(--example eval)
((TORCH)) && examples+=(--example bench)
cargo build --release -q -p gnsm-eval "${examples[@]}"
EVAL=$ROOT/target/release/examples/eval

# --- 2. Python venv with pinned requirements -----------------------------------------------------
make_venv() {
    if "$PYTHON" -m venv "$VENV" 2>"$WORK/venv.log"; then return 0; fi
    # Debian's python3 without python3-venv: bootstrap virtualenv (it bundles pip) through pip
    say "python -m venv failed ($(tail -1 "$WORK/venv.log")); trying virtualenv"
    rm -rf "$VENV"
    local boot=$WORK/venv-bootstrap
    "$PYTHON" -m pip install -q --target "$boot" virtualenv ||
        "$PYTHON" -m pip install -q --break-system-packages --target "$boot" virtualenv
    PYTHONPATH=$boot "$PYTHON" -m virtualenv -q "$VENV"
}
if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV"
    make_venv
fi
PY=$VENV/bin/python
stamp() { sha256sum "$1" | cut -c1-16; }
REQ=$ROOT/bench/python/requirements.txt
if [ ! -f "$VENV/.req-$(stamp "$REQ")" ]; then
    say "installing bench/python/requirements.txt into the venv"
    "$PY" -m pip install -q --disable-pip-version-check -r "$REQ"
    touch "$VENV/.req-$(stamp "$REQ")"
fi
TORCH_REQ=$ROOT/bench/python/requirements-torch.txt
export GNSM_TORCH_INSTALL_ERROR=""
if ((TORCH)) && [ ! -f "$VENV/.req-$(stamp "$TORCH_REQ")" ]; then
    say "installing bench/python/requirements-torch.txt (PyPI's torch pulls ~5 GB of CUDA wheels)"
    if "$PY" -m pip install -q --disable-pip-version-check -r "$TORCH_REQ" >"$WORK/torch_install.log" 2>&1; then
        touch "$VENV/.req-$(stamp "$TORCH_REQ")"
    else
        GNSM_TORCH_INSTALL_ERROR="pip install -r bench/python/requirements-torch.txt failed: $(tail -3 "$WORK/torch_install.log" | tr '\n' ' ')"
        say "PyTorch could not be installed; the step timing will say so ($WORK/torch_install.log)"
    fi
fi
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS NUMBA_NUM_THREADS=$THREADS
say "venv ready ($((SECONDS - T0)) s so far)"

# --- 3. gnsm default (writes the splits), then the larger setting on the semi protocol -----------
read -r -a extra <<<"$GNSM_EXTRA_ARGS"
read -r -a large <<<"$GNSM_LARGE_ARGS"
say "gnsm default: $DATASETS / $PROTOCOL"
t=$SECONDS
"$EVAL" --data-dir "$DATA_DIR" --datasets "$DATASETS" --protocol "$PROTOCOL" --threads "$THREADS" \
    "${EVAL_ARGS[@]}" "${extra[@]}" --splits-dir "$WORK/splits" --label "gnsm default" --json "$WORK/gnsm_default.json" \
    | tee "$WORK/gnsm_default.txt"
say "gnsm default took $((SECONDS - t)) s"
GNSM_JSONS=(--gnsm "$WORK/gnsm_default.json")
if ((LARGE)) && [ "$PROTOCOL" != unsup ]; then
    say "gnsm larger setting ($GNSM_LARGE_LABEL: $GNSM_LARGE_ARGS): $DATASETS / semi"
    t=$SECONDS
    mkdir -p "$WORK/splits_large"
    "$EVAL" --data-dir "$DATA_DIR" --datasets "$DATASETS" --protocol semi --threads "$THREADS" \
        "${EVAL_ARGS[@]}" "${extra[@]}" "${large[@]}" --splits-dir "$WORK/splits_large" --label "$GNSM_LARGE_LABEL" \
        --json "$WORK/gnsm_large.json" | tee "$WORK/gnsm_large.txt"
    # the splits depend only on (data set, seed): both settings must have seen the same rows
    for f in "$WORK"/splits_large/*.json; do
        cmp -s "$f" "$WORK/splits/$(basename "$f")" || { echo "quality.sh: split $(basename "$f") differs between the gnsm runs" >&2; exit 1; }
    done
    GNSM_JSONS+=(--gnsm "$WORK/gnsm_large.json")
    say "gnsm larger setting took $((SECONDS - t)) s"
fi

# --- 4. Python peers on the same splits ----------------------------------------------------------
say "Python peers (IForest, ECOD, COPOD, CBRW) on the same splits"
t=$SECONDS
rc=0
"$PY" "$ROOT/bench/python/peers.py" --data-dir "$DATA_DIR" --splits-dir "$WORK/splits" --datasets "$DATASETS" \
    --protocol "$PROTOCOL" --threads "$THREADS" --out "$WORK/peers.json" || rc=$?
say "peers took $((SECONDS - t)) s (exit $rc)"

# --- 5. training-step timing: PyTorch vs. gnsm-core ----------------------------------------------
TORCH_JSON=()
if ((TORCH)); then
    say "training-step timing: PyTorch vs. gnsm-core"
    "$PY" "$ROOT/bench/python/torch_step.py" --gnsm-bench "$ROOT/target/release/examples/bench" --json "$WORK/torch_step.json" || rc=$?
    [ -f "$WORK/torch_step.json" ] && TORCH_JSON=(--torch "$WORK/torch_step.json")
fi

# --- 6. report -----------------------------------------------------------------------------------
say "report -> $OUT"
PEERS_JSON=()
[ -f "$WORK/peers.json" ] && PEERS_JSON=(--peers "$WORK/peers.json")
"$PY" "$ROOT/bench/python/report.py" "${GNSM_JSONS[@]}" "${PEERS_JSON[@]}" "${TORCH_JSON[@]}" \
    --method-doc "$DATA_DIR/../docs/gnsm-method.md" --out-dir "$OUT" --command "$CMDLINE" >"$WORK/report.txt"
for f in quality_bench.md quality_bench.json quality_vs_time.png; do
    [ -s "$OUT/$f" ] || { echo "quality.sh: $OUT/$f missing or empty" >&2; exit 1; }
done
cat "$OUT/quality_bench.md"
echo
if ((rc != 0)); then
    echo "quality.sh: a step failed (exit $rc); see the notes above and $WORK" >&2
    exit "$rc"
fi
if ((SMOKE)); then
    # every measured method must have a number for solar
    "$PY" - "$OUT/quality_bench.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["protocols"]["semi"]["summary"]["solar"]
need = ["gnsm default", "indep", "avf", "iforest", "ecod", "copod", "cbrw"]
missing = [m for m in need if s.get(m, {}).get("auroc") is None]
if missing:
    sys.exit(f"quality smoke: no AUROC for {missing}")
EOF
    echo "report: $OUT/quality_bench.md ($((SECONDS - T0)) s in all)"
    echo "quality smoke: ok"
else
    echo "report: $OUT/quality_bench.md, $OUT/quality_bench.json, $OUT/quality_vs_time.png ($((SECONDS - T0)) s in all)"
    echo "quality: ok"
fi
