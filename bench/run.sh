#!/bin/bash
# make bench: mtbert's training step beside PyTorch's on the same work, and
# the figures the Speed issue sets targets for, in one table.
#
#   bench/run.sh [--quick]
#
# Workloads: the synthetic step (SST 8x32, Quora 8x64, STS 2x8x32, sum mode,
# cls pooling) and the seed's step on the course files (batch 8 per task,
# random batches; PyTorch pads each batch to its longest sequence, as the
# seed does, mtbert packs the real tokens), for mini and base.  PyTorch
# (Debian's python3-torch) replays the very batches mtbert drew, with 1 torch
# thread and OpenBLAS on 1 and on 2 threads under the kernel mtbert runs, and
# with bf16 autocast on 2 threads where the CPU has bf16 units; the fastest
# is compared.  Without torch the comparison is skipped and said so.  Every
# figure names its kernel and precision; BENCH_KERNELS (default: those of
# Haswell, Zen, SkylakeX, Cooperlake the CPU runs) lists the kernels timed.
#
# Environment: MTBERT (the binary, default src/mtbert), BENCH_DATA (the
# course data, default ../shared/data beside the project), BENCH_STEPS (timed
# steps per run; default 10 for mini and smaller, 3 for base), BENCH_CONFIGS
# (default "mini base"), PYTHON (default /usr/bin/python3).  --quick: mini
# only, 3 steps.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MTBERT=${MTBERT:-$top/src/mtbert}
DATA=${BENCH_DATA:-$top/../shared/data}
STEPS_GIVEN=${BENCH_STEPS:-}
CONFIGS=${BENCH_CONFIGS:-mini base}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ "${1:-}" = --quick ]; then
    STEPS_GIVEN=3
    CONFIGS=mini
fi
steps_for() { # timed steps for a config: base steps take seconds each
    if [ -n "$STEPS_GIVEN" ]; then echo "$STEPS_GIVEN"; elif [ "$1" = base ]; then echo 3; else echo 10; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$MTBERT" ]; then
    echo "bench: $MTBERT not built (run make first)" >&2
    exit 2
fi
have_torch=0
if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=1
fi
have_data=0
if [ -f "$DATA/ids-sst-train.csv" ] && [ -f "$DATA/sts-train.csv" ] &&
   [ -f "$DATA/bert-base-uncased-vocab.txt" ]; then
    have_data=1
fi

field() { # the number after "NAME=" in the last line of a file
    tail -n 1 "$1" | tr ' ' '\n' | sed -n "s|^$2=||p"
}

"$MTBERT" info >"$tmp/info" 2>&1 || { cat "$tmp/info" >&2; exit 1; }
sed -n 's/^cpu  *\(.*\)/cpu: \1/p; s/^openblas  *\(.*\)/openblas: \1/p; s/^kernel  *\(.*\)/kernel: \1/p; s/^products  *\(.*\)/products: \1/p' "$tmp/info"
# The kernel mtbert runs (the CPU's best unless the environment names one),
# and the one it runs for a user with no OPENBLAS_CORETYPE set.
kernel=$(sed -n 's/^kernel  *\([A-Za-z0-9_]*\):.*/\1/p' "$tmp/info")
user_kernel=$(env -u OPENBLAS_CORETYPE "$MTBERT" info | sed -n 's/^kernel  *\([A-Za-z0-9_]*\):.*/\1/p')
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has_flag() { case " $flags " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# the OpenBLAS kernels of the fp32 comparison this CPU can execute
KERNELS=${BENCH_KERNELS:-}
if [ -z "$KERNELS" ]; then
    has_flag avx2 && has_flag fma && KERNELS="Haswell Zen"
    has_flag avx512f && has_flag avx512bw && has_flag avx512dq && has_flag avx512vl &&
        has_flag avx512cd && KERNELS="$KERNELS SkylakeX"
    has_flag avx512f && has_flag avx512_bf16 && KERNELS="$KERNELS Cooperlake"
fi
bf16_units=0
{ has_flag avx512_bf16 || has_flag amx_bf16; } && bf16_units=1
echo "precision: fp32 (bf16 units on this CPU: $([ $bf16_units = 1 ] && echo yes || echo no))"
echo "torch: $([ $have_torch = 1 ] && "$PYTHON" -c 'import torch; print(torch.__version__)' ||
    echo 'not installed (apt-get install python3-torch): comparison skipped')"
echo "course data: $([ $have_data = 1 ] && echo "$DATA" || echo "not found at $DATA: course rows skipped")"
echo "timed steps per run: $(for c in $CONFIGS; do printf '%s %s  ' "$c" "$(steps_for "$c")"; done)(after 1 untimed)"
echo

# torch_best LABEL ARGS...: PyTorch at its best: fp32 with the kernel mtbert
# runs (the CPU's best) and OpenBLAS on 1 and on 2 threads, and bf16
# autocast on 2 threads where the CPU has bf16 units; prints "best_ms how".
torch_best() {
    local label=$1 best="" best_how="" ms how
    shift
    for run in "1 off" "2 off" "2 bf16"; do
        read -r nt ac <<<"$run"
        [ "$ac" = bf16 ] && [ $bf16_units = 0 ] && continue
        how="$([ "$ac" = bf16 ] && echo "bf16 autocast, " || echo "fp32, ")BLAS $nt, $kernel"
        if OPENBLAS_CORETYPE=$kernel OPENBLAS_NUM_THREADS=$nt "$PYTHON" "$here/torch_bench.py" \
            --steps "$STEPS" --warmup 1 --threads 1 --autocast "$ac" "$@" \
            >"$tmp/torch-$label-$nt-$ac" 2>"$tmp/torch-$label-$nt-$ac.err"; then
            ms=$(field "$tmp/torch-$label-$nt-$ac" ms/step)
            echo "  PyTorch $label, $how: $ms ms/step" >&2
            if [ -z "$best" ] || awk "BEGIN { exit !($ms < $best) }"; then
                best=$ms
                best_how=$how
            fi
        else
            echo "  PyTorch $label ($how) failed: $(tail -n 1 "$tmp/torch-$label-$nt-$ac.err")" >&2
        fi
    done
    echo "$best $best_how"
}

rows=()
extra=()
row() { rows+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }

for cfg in $CONFIGS; do
    STEPS=$(steps_for "$cfg")
    # synthetic step
    "$MTBERT" bench --config "$cfg" --batch 8 --seq 32 --mode sum --steps "$STEPS" --warmup 1 \
        --profile >"$tmp/syn-$cfg" 2>/dev/null || { echo "bench: mtbert $cfg synthetic failed" >&2; exit 1; }
    ms=$(field "$tmp/syn-$cfg" ms/step)
    tps=$(field "$tmp/syn-$cfg" tokens/s)
    dense=$(sed -n 's/^  in the step the products themselves took \([0-9.]*\) ms.*/\1/p' "$tmp/syn-$cfg")
    floor=$(sed -n 's/^  floor (.*): \([0-9.]*\) ms$/\1/p' "$tmp/syn-$cfg")
    echo "  mtbert $cfg synthetic: $ms ms/step, dense products $dense ms, floor $floor ms" >&2
    if [ $have_torch = 1 ]; then
        read -r tms tnt <<<"$(torch_best "$cfg-synthetic" --config "$cfg" --synthetic --batch 8 --seq 32)"
        row "$cfg" "synthetic step, tokens/s" "$tps" \
            "$(awk "BEGIN { printf \"%.0f\", $tps * $ms / $tms }") ($tnt)" \
            "$(awk "BEGIN { printf \"%.2fx\", $tms / $ms }")"
    else
        row "$cfg" "synthetic step, tokens/s" "$tps" "skipped" ""
    fi
    extra+=("$(printf '| %s | synthetic step, %s: dense products in the step / floor; step / floor | %s / %s ms = %s; %s / %s ms = %s |' \
        "$cfg" "$kernel" "$dense" "$floor" "$(awk "BEGIN { printf \"%.2fx\", $dense / $floor }")" \
        "$ms" "$floor" "$(awk "BEGIN { printf \"%.2fx\", $ms / $floor }")")")

    # the seed's step on the course data
    if [ $have_data = 1 ]; then
        "$MTBERT" bench --data "$DATA" --config "$cfg" --steps "$STEPS" --warmup 1 \
            --dump-batches "$tmp/batches-$cfg" >"$tmp/course-$cfg" 2>/dev/null ||
            { echo "bench: mtbert $cfg course failed" >&2; exit 1; }
        ms=$(field "$tmp/course-$cfg" ms/step)
        real=$(sed -n 's/.*tokens per step; .*: \([0-9]*\)% real.*/\1/p' "$tmp/course-$cfg")
        score=$(sed -n 's/^pair score \([0-9.]*\) ms.*/\1/p' "$tmp/course-$cfg")
        rss=$(sed -n 's/^peak RSS *\([0-9.]*\) MiB/\1/p' "$tmp/course-$cfg")
        echo "  mtbert $cfg course: $ms ms/step ($real% real tokens), pair score $score ms" >&2
        if [ $have_torch = 1 ]; then
            read -r tms tnt <<<"$(torch_best "$cfg-course" --config "$cfg" --pooling mean \
                --batches "$tmp/batches-$cfg")"
            row "$cfg" "seed's step on the course data ($real% real tokens), ms/step" "$ms" \
                "$tms ($tnt)" "$(awk "BEGIN { printf \"%.2fx\", $tms / $ms }")"
        else
            row "$cfg" "seed's step on the course data ($real% real tokens), ms/step" "$ms" \
                "skipped" ""
        fi
        extra+=("| $cfg | pair scored in the workbench (paused), median | $score ms |")
        extra+=("| $cfg | peak RSS, sum step on the course data | $rss MiB |")
    fi
done

# PCGrad against sum, and 1 against 2 threads, on the largest config asked for
big=${CONFIGS##* }
STEPS=$(steps_for "$big")

# fp32 under every kernel the CPU runs: the dense products against their
# floor and the step against it; and the step as a user with no
# OPENBLAS_CORETYPE gets it against the fastest kernel's
best_ms=""
best_k=""
for k in $KERNELS; do
    OPENBLAS_CORETYPE=$k "$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode sum \
        --steps "$STEPS" --warmup 1 --profile >"$tmp/k-$k" 2>/dev/null ||
        { echo "bench: mtbert $big under $k failed" >&2; continue; }
    kms=$(field "$tmp/k-$k" ms/step)
    kd=$(sed -n 's/^  in the step the products themselves took \([0-9.]*\) ms.*/\1/p' "$tmp/k-$k")
    kf=$(sed -n 's/^  floor (.*): \([0-9.]*\) ms$/\1/p' "$tmp/k-$k")
    echo "  mtbert $big synthetic under $k: $kms ms/step, dense $kd ms, floor $kf ms" >&2
    extra+=("$(printf '| %s | fp32 synthetic step under %s: ms/step; dense / floor; step / floor | %s ms; %s; %s |' \
        "$big" "$k" "$kms" "$(awk "BEGIN { printf \"%.2fx\", $kd / $kf }")" \
        "$(awk "BEGIN { printf \"%.2fx\", $kms / $kf }")")")
    if [ -z "$best_ms" ] || awk "BEGIN { exit !($kms < $best_ms) }"; then
        best_ms=$kms
        best_k=$k
    fi
done
if [ -n "$best_ms" ]; then
    env -u OPENBLAS_CORETYPE "$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode sum \
        --steps "$STEPS" --warmup 1 >"$tmp/asuser" 2>/dev/null &&
        ums=$(field "$tmp/asuser" ms/step) &&
        extra+=("$(printf '| %s | as a user runs it (no OPENBLAS_CORETYPE: %s) / the fastest kernel (%s) | %s / %s ms = %s |' \
            "$big" "$user_kernel" "$best_k" "$ums" "$best_ms" "$(awk "BEGIN { printf \"%.2fx\", $ums / $best_ms }")")")
fi
"$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode pcgrad --steps "$STEPS" --warmup 1 \
    >"$tmp/pc" 2>/dev/null && "$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode sum \
    --steps "$STEPS" --warmup 1 >"$tmp/sum" 2>/dev/null && "$MTBERT" bench --config "$big" \
    --batch 8 --seq 32 --mode sum --threads 1 --steps "$STEPS" --warmup 1 >"$tmp/one" 2>/dev/null ||
    { echo "bench: mtbert $big pcgrad/threads runs failed" >&2; exit 1; }
pc=$(field "$tmp/pc" ms/step)
sum=$(field "$tmp/sum" ms/step)
one=$(field "$tmp/one" ms/step)
pc_rss=$(sed -n 's/^peak RSS *\([0-9.]*\) MiB/\1/p' "$tmp/pc")
extra+=("$(printf '| %s | PCGrad step / sum step (synthetic) | %s / %s ms = %s |' "$big" "$pc" "$sum" \
    "$(awk "BEGIN { printf \"%.2fx\", $pc / $sum }")")")
extra+=("$(printf '| %s | 1 thread / 2 threads (synthetic, sum) | %s / %s ms = %s |' "$big" "$one" "$sum" \
    "$(awk "BEGIN { printf \"%.2fx\", $one / $sum }")")")
extra+=("| $big | peak RSS, PCGrad step (synthetic) | $pc_rss MiB |")

echo
echo "| config | workload | mtbert | PyTorch (best) | mtbert speed-up |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| config | mtbert alone | |"
echo "|---|---|---|"
printf '%s\n' "${extra[@]}"
