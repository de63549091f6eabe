#!/bin/bash
# Runs the test suite once per OpenBLAS kernel this CPU can execute, to show
# that no test depends on which kernel a machine gets (a developer's check,
# not part of `make check` or CI, which leave OPENBLAS_CORETYPE as they find
# it).  Usage: tests/kernels.sh [KERNEL...]   from a configured build tree.
# Prints one line per kernel and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if [ $# -gt 0 ]; then
    kernels=("$@")
else
    kernels=(Prescott Nehalem)
    has avx && kernels+=(Sandybridge)
    has avx2 && has fma && kernels+=(Haswell Zen)
    has avx512f && has avx512bw && has avx512vl && kernels+=(SkylakeX)
    has avx512_bf16 && kernels+=(Cooperlake)
fi
make -s -j"$(nproc)" check TESTS= >/dev/null || exit 1
passed=0 failed=0
for k in "${kernels[@]}"; do
    log=$(mktemp)
    OPENBLAS_CORETYPE=$k make -s -j"$(nproc)" check >"$log" 2>&1
    pass=$(sed -n 's/^# PASS: *//p' test-suite.log | head -1)
    fail=$(( $(sed -n 's/^# FAIL: *//p' test-suite.log | head -1) + $(sed -n 's/^# ERROR: *//p' test-suite.log | head -1) ))
    printf '%-12s %4s passed, %s failed\n' "$k" "$pass" "$fail"
    if [ "$fail" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); grep -E '^(FAIL|ERROR):' "$log"; fi
    rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
