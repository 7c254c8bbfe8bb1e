#!/usr/bin/env bash
# seqlab on a CUDA machine, in one command.
#
# `cargo xtask device-bundle` copies this script into the bundle folder
# (`.device/` by default) beside the `seqlab` binary built with CUDA, the data
# and their checksums. On any Linux machine with an NVIDIA GPU and PyTorch
# 2.11 installed (no Rust needed):
#
#     OUT=/some/folder bash .device/run.sh
#
# It points the dynamic linker at the installed PyTorch's libraries, checks
# that the binary finds every library, then runs, each step under its own
# time cap so that the whole run ends within DEVICE_BUDGET_S seconds (480 by
# default) and keeps what it finished:
#   1. every experiment with --quick on CUDA;
#   2. `seqlab bench` of every workload on CUDA beside the PyTorch eager peer
#      (peers.py, on the installed PyTorch);
#   3. imdb-lstm and mnist-bilstm-ae with their full settings, seed 42, on CUDA
#      (at most 200 s each);
#   4. the quick runs again on the machine's CPU, with the time left, for the
#      comparison on the same machine.
# Results go to $OUT as three files at most: gpu-results.tar.gz (the runs'
# metrics, timings, histories and pictures, the bench lines, the step table),
# cpu-quick.tar.gz (step 4, without pictures) and device.log (everything
# printed). `cargo xtask device-import` reads them back.
#
# Environment:
#   OUT               where the results go (default: ./device-out)
#   DEVICE_BUDGET_S   seconds for the whole run (default 480; 55 in a dry run)
#   DEVICE_DRY_RUN=1  the same steps on this machine's CPU with tiny settings
#                     (one epoch, shrunk benches): tests this script without a GPU
#   DEVICE_QUICK      the experiments of steps 1 and 4 (default: every one,
#                     from `seqlab list --names`)
#   DEVICE_SKIP       experiments left out of steps 1 and 4 (default: none)
#   DEVICE_FULL       the experiments of step 3 (default: imdb-lstm mnist-bilstm-ae)
#   SEQLAB_TORCH_DIR  the torch folder whose lib/ holds libtorch (default: the
#                     installed PyTorch's, from python3)
#   DEVICE_PYTHON     the Python that runs the PyTorch peer (default: python3)
set -uo pipefail

BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$PWD/device-out}
DRY=${DEVICE_DRY_RUN:-0}
PY=${DEVICE_PYTHON:-python3}
if [ "$DRY" = 1 ]; then
    BUDGET=${DEVICE_BUDGET_S:-55}
    DEVICE=cpu
else
    BUDGET=${DEVICE_BUDGET_S:-480}
    DEVICE=cuda
fi
START=$(date +%s)
# Seconds kept for packing the results at the end.
RESERVE=15

mkdir -p "$OUT" || { echo "run.sh: cannot create OUT=$OUT" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqlab-device.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
RES="$WORK/results"
mkdir -p "$RES"
LOG="$OUT/device.log"

say() { printf 'run.sh [%3d s]: %s\n' "$(($(now) - START))" "$*"; }
now() { date +%s; }
left() { echo $((BUDGET - RESERVE - ($(now) - START))); }

pack() {
    say "packing the results into $OUT"
    tar -czf "$OUT/gpu-results.tar.gz" --exclude='*.safetensors' --exclude='quick-cpu' -C "$RES" . ||
        say "could not pack gpu-results.tar.gz"
    if [ -d "$RES/quick-cpu" ]; then
        tar -czf "$OUT/cpu-quick.tar.gz" --exclude='*.safetensors' --exclude='*.png' -C "$RES" quick-cpu ||
            say "could not pack cpu-quick.tar.gz"
    fi
    ls -l "$OUT"
    say "done"
}

# One row of steps.tsv: step, experiment or workload, device, status, seconds.
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RES/steps.tsv"; }

# step NAME WHAT DEVICE CAP -- command...: runs the command under
# min(CAP, time left), records its status: ok, failed, timeout (stopped at
# its cap), no-time (not started: the budget is spent).
step() {
    local name=$1 what=$2 dev=$3 cap=$4
    shift 5
    local budget
    budget=$(left)
    [ "$budget" -lt "$cap" ] && cap=$budget
    if [ "$cap" -lt 5 ]; then
        say "$name $what: not started, no time left"
        record "$name" "$what" "$dev" no-time 0
        return 1
    fi
    say "$name $what on $dev (at most ${cap} s): $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout --kill-after=5 "$cap" "$@"
    rc=$?
    t1=$(date +%s.%N)
    local secs status
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    case $rc in
    0) status=ok ;;
    124 | 137) status=timeout ;;
    *) status=failed ;;
    esac
    say "$name $what: $status ($secs s)"
    record "$name" "$what" "$dev" "$status" "$secs"
    return $rc
}

main() {
say "seqlab device run, $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${BUDGET} s, device $DEVICE$([ "$DRY" = 1 ] && echo ' (dry run)')"
cat "$BUNDLE/bundle.txt" 2>/dev/null

# --- the bundle: checksums, binary -------------------------------------------
( cd "$BUNDLE" && sha256sum --quiet -c SHA256SUMS ) || {
    say "the bundle's files do not match SHA256SUMS (an incomplete copy?): stopping"
    pack
    return 1
}
SEQLAB="$WORK/seqlab"
gzip -dc "$BUNDLE/seqlab.gz" >"$SEQLAB" && chmod +x "$SEQLAB" || {
    say "cannot unpack the seqlab binary"
    pack
    return 1
}

# --- libtorch: the installed PyTorch's, and the CUDA libraries beside it -----
TORCH_DIR=${SEQLAB_TORCH_DIR:-$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)}
if [ -z "$TORCH_DIR" ] || [ ! -d "$TORCH_DIR/lib" ]; then
    say "no PyTorch found (python3 -c 'import torch' failed and SEQLAB_TORCH_DIR is unset): install PyTorch 2.11, or set SEQLAB_TORCH_DIR to a folder whose lib/ holds libtorch"
    pack
    return 1
fi
LIBS="$TORCH_DIR/lib"
for d in "$TORCH_DIR"/../nvidia/*/lib; do
    [ -d "$d" ] && LIBS="$LIBS:$(cd "$d" && pwd)"
done
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "torch folder: $TORCH_DIR"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
command -v nvidia-smi >/dev/null && nvidia-smi
"$PY" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "GPU", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")' 2>&1
ldd "$SEQLAB"
if ldd "$SEQLAB" | grep -q 'not found'; then
    say "the seqlab binary misses libraries (above: 'not found'): stopping"
    pack
    return 1
fi
"$SEQLAB" --version

# What the machine is, for the report (read back by `cargo xtask device-import`).
GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)
{
    printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'device\t%s\n' "$DEVICE"
    printf 'dry_run\t%s\n' "$DRY"
    printf 'gpu\t%s\n' "${GPU_NAME:-none}"
    printf 'cpu\t%s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    printf 'cores\t%s\n' "$(nproc)"
    printf 'torch\t%s\n' "${TORCH_VERSION:-unknown}"
    printf 'seqlab\t%s\n' "$("$SEQLAB" --version)"
    printf 'bundle\t%s\n' "$(head -1 "$BUNDLE/bundle.txt" 2>/dev/null)"
} >"$RES/machine.tsv"

DATA="$BUNDLE/data"
EXPERIMENTS=${DEVICE_QUICK:-$("$SEQLAB" list --names)} || {
    say "seqlab list failed: stopping"
    pack
    return 1
}
KEPT=()
for e in $EXPERIMENTS; do
    case " ${DEVICE_SKIP:-} " in
        *" $e "*) ;;
        *) KEPT+=("$e") ;;
    esac
done
EXPERIMENTS="${KEPT[*]}"
FULL_RUNS=${DEVICE_FULL:-imdb-lstm mnist-bilstm-ae}
if [ "$DRY" = 1 ]; then
    QUICK=(--quick --epochs 1)
    FULL=(--quick --epochs 1)
    BENCH=(--warmup 0 --epochs 1 --shrink 100)
else
    QUICK=(--quick)
    FULL=()
    BENCH=(--warmup 1 --epochs 3)
fi
printf 'step\twhat\tdevice\tstatus\tseconds\n' >"$RES/steps.tsv"

# --- 1. every experiment, quick, on the device ---------------------------------
for e in $EXPERIMENTS; do
    step quick "$e" "$DEVICE" 60 -- "$SEQLAB" run "$e" "${QUICK[@]}" --quiet --device "$DEVICE" \
        --results-dir "$RES/quick" --data-dir "$DATA"
done

# --- 2. throughput: seqlab and PyTorch eager, every workload -------------------
PEER=1
"$PY" -c 'import torch' 2>/dev/null || {
    PEER=0
    say "no importable PyTorch for the peer: its bench lines are skipped"
}
while read -r w; do
    [ -z "$w" ] && continue
    step bench "$w" "$DEVICE" 60 -- bash -c '"$@" >>"'"$RES"'/bench.jsonl"' _ \
        "$SEQLAB" bench "$w" --device "$DEVICE" "${BENCH[@]}"
    if [ "$PEER" = 1 ]; then
        step bench-peer "$w" "$DEVICE" 90 -- bash -c '"$@" | grep "^{" >>"'"$RES"'/bench.jsonl"' _ \
            env PYTHONWARNINGS=ignore "$PY" "$BUNDLE/peers.py" "$w" --device "$DEVICE" "${BENCH[@]}"
    else
        record bench-peer "$w" "$DEVICE" no-peer 0
    fi
done <"$BUNDLE/workloads.txt"

# --- 3. full settings, seed 42 ---------------------------------------------------
for e in $FULL_RUNS; do
    step full "$e" "$DEVICE" 200 -- "$SEQLAB" run "$e" "${FULL[@]}" --quiet --seed 42 \
        --device "$DEVICE" --results-dir "$RES/full" --data-dir "$DATA"
done

# --- 4. the quick runs on this machine's CPU, with the time left ----------------
if [ "$DRY" != 1 ]; then
    for e in $EXPERIMENTS; do
        step quick-cpu "$e" cpu 60 -- "$SEQLAB" run "$e" "${QUICK[@]}" --quiet --device cpu \
            --results-dir "$RES/quick-cpu" --data-dir "$DATA"
    done
fi

pack
    return 0
}

# Everything printed goes to the terminal and to device.log.
main 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
