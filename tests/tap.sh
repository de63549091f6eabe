# TAP helpers sourced by the shell tests: ok, not_ok (extra arguments become
# diagnostic lines) and skip, numbering the tests as they go.
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME COMMAND...: passes when the command succeeds; on failure shows
# the start of $tmp/out and $tmp/err, where the scripts keep the last output.
check() {
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name" "failed: $*" "stdout: $(head -c 400 "${tmp:-.}/out" 2>/dev/null)" \
            "stderr: $(head -c 400 "${tmp:-.}/err" 2>/dev/null)"
    fi
}
