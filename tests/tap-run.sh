#!/bin/bash
# Runs one cmocka test program with TAP output for automake's tap-driver.
# cmocka 1.1 prints skipped cases as "not ok N # SKIP", which TAP counts as a
# failure; a skip is reported as "ok N # SKIP" here so it is counted as one.
set -o pipefail
CMOCKA_MESSAGE_OUTPUT=TAP "$@" | sed -e 's/^not ok \([0-9][0-9]*\) # SKIP/ok \1 # SKIP/'
