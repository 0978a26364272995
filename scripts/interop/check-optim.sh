#!/usr/bin/env bash
# Optimizers against the real TensorFlow (issue 12):
#  1. TF 2.21 re-runs every case of tests/conformance/optimizers.json and gets exactly its
#     `expect` (../shared/oracle-next/optim_oracle.py --check), so the copy is what TF does now;
#  2. numpy re-derives every trajectory from the kernels' update formulas
#     (reference_optim_math.py);
#  3. varscope::train runs the same cases and matches them (the conformance runner, which
#     prints `N passed, N failed` and fails on any difference).
# Needs only $VENV (scripts/interop/venv.sh), cargo and ../shared. Fails loudly on a mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (bash scripts/interop/venv.sh)}"
shared=../shared/oracle-next
py="$VENV/bin/python"
cases=tests/conformance/optimizers.json
[ -f "$shared/optim_oracle.py" ] || { echo "check-optim: $shared/optim_oracle.py is missing" >&2; exit 1; }

echo "== check-optim: TF 2.21 re-runs $cases"
out="$("$py" "$shared/optim_oracle.py" "$cases" --check 2>/dev/null)"
echo "$out"
echo "$out" | grep -q ": 0 difference(s)" || { echo "check-optim: TF disagrees with $cases" >&2; exit 1; }

echo "== check-optim: numpy re-derives the trajectories"
"$py" "$shared/reference_optim_math.py" "$cases"

echo "== check-optim: varscope::train on the same cases"
# Captured, not `tee /dev/stderr`: reopening stderr truncates it when it is a log file.
ours="$(cargo run --release --quiet --example conformance -- "$cases")"
echo "$ours"
echo "$ours" | grep -q "^15 passed, 0 failed$" || { echo "check-optim: varscope::train differs from TF" >&2; exit 1; }
