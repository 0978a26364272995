#!/usr/bin/env bash
# TensorBoard reads varscope's event file: the `tensorboard` example writes the seed model's graph
# and its scalars, and ../shared/oracle-next/check_events.py (TensorBoard 2.21's EventAccumulator)
# compares them with the graph TF 2.21 wrote for the same model and with the scalars the example
# says it wrote. Needs $VENV (scripts/interop/venv.sh), cargo and ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (VENV=\$(bash scripts/interop/venv.sh))}"
oracle=../shared/oracle-next
[ -f "$oracle/check_events.py" ] || { echo "check-events: $oracle/check_events.py is missing" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release --example tensorboard -- "$out/logs" "$out/scalars.json"
if ! "$VENV/bin/python" "$oracle/check_events.py" "$out/logs" "$oracle/public/events/seed_graph/expected.json" \
  --ignore '/Initializer/' --allow-extra-nodes --scalars-from "$out/scalars.json" >"$out/check.log" 2>&1; then
  cat "$out/check.log" >&2
  echo "check-events: FAILED: TensorBoard's reader disagrees with the fixture (see above)" >&2
  exit 1
fi
grep -E '^(PASS|FAIL|[0-9]+ passed)' "$out/check.log"
echo "check-events: TensorBoard read the seed graph and the scalars"
