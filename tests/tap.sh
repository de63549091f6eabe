# TAP helpers sourced by the shell tests: ok, not_ok (extra arguments become
# diagnostic lines) and skip, numbering the tests as they go.
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
