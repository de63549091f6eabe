#!/bin/bash
# Soak test: the workbench open in a real terminal (tmux) for 10,000 tiny
# training steps on the demo data, evaluating every 500, with a sentence
# scored every few seconds.  Its resident memory, sampled from /proc, must
# stay flat after warm-up: near the end (200 steps before it, clear of the
# final evaluation and save, whose buffers come and go) within 2% of the
# level at 22% of the run (clear of the evaluation at 20%).  The 2% leave
# room for a high-water mark, not a leak: a step with more tokens than any
# before it touches a few more rows of the activation workspace, and they
# stay resident (measured: 41.5 MiB to 42.0 MiB over 8,000 steps).  The leak
# this guards against grew 8 MiB with every evaluation, until large buffers
# came from mmap.
#
#   tests/soak.sh [STEPS]     (CI runs it; it takes a few minutes)
# Prints TAP: one test, then "1..1".
set -u
here=$(cd "$(dirname "$0")" && pwd)
MTBERT=$(cd "$(dirname "${MTBERT:-$here/../src/mtbert}")" && pwd)/$(basename "${MTBERT:-mtbert}")
steps=${1:-10000}
demo="$here/../data/demo"
. "$here/tap.sh"
need_command tmux "workbench memory over $steps steps"
tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
t() { tmux -S "$sock" "$@"; }
trap 't kill-server 2>/dev/null; sleep 0.3; rm -rf "$tmp"' EXIT
# The inner shell writes its pid and becomes the workbench (exec).
t -f /dev/null new-session -d -s soak -x 120 -y 40 \
    "env -i PATH=/usr/bin:/bin HOME=$tmp XDG_CONFIG_HOME=$tmp/c XDG_STATE_HOME=$tmp/s TERM=tmux-256color LANG=C.UTF-8 \
     sh -c 'echo \$\$ >$tmp/pid; exec $MTBERT tui --config tiny --vocab $demo/vocab.txt \
     --sst-train $demo/sst-train.csv --para-train $demo/para-train.csv --sts-train $demo/sts-train.csv \
     --sst-dev $demo/sst-dev.csv --para-dev $demo/para-dev.csv --sts-dev $demo/sts-dev.csv \
     --max-length 24 --max-steps $steps --eval-every 500 --out $tmp/run --metrics $tmp/m.jsonl'; \
     echo EXIT=\$? >$tmp/exit; sleep 3600"
pid=
for _ in $(seq 100); do
    [ -s "$tmp/pid" ] && pid=$(cat "$tmp/pid") && break
    sleep 0.1
done
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
warm= last= samples=0 step=0
while [ -n "$pid" ] && [ -e "/proc/$pid" ]; do
    step=$(grep -c '"task":"sst"' "$tmp/m.jsonl" 2>/dev/null)
    step=${step:-0}
    r=$(rss "$pid")
    [ -z "$r" ] && break
    [ -z "$warm" ] && [ "$step" -ge $((steps * 22 / 100)) ] && warm=$r
    [ -z "$last" ] && [ "$step" -ge $((steps - 200)) ] && last=$r
    samples=$((samples + 1))
    [ $((samples % 10)) -eq 0 ] && t send-keys -t soak "a warm and funny film" Enter
    [ "$step" -ge "$steps" ] && break
    sleep 0.5
done
t send-keys -t soak ":quit" Enter
for _ in $(seq 100); do [ -s "$tmp/exit" ] && break; sleep 0.2; done
if [ -n "$warm" ] && [ -n "$last" ] && [ "$step" -ge "$steps" ] &&
    awk -v w="$warm" -v l="$last" 'BEGIN { exit !(l <= w * 1.02) }'; then
    echo "ok 1 - workbench memory over $steps steps: $((warm / 1024)) MiB after warm-up, $((last / 1024)) MiB at the end"
else
    echo "not ok 1 - workbench memory over $steps steps"
    echo "# after warm-up ${warm:-?} KiB, at the end ${last:-?} KiB, steps seen $step"
fi
echo "1..1"
