#!/usr/bin/env bash
# Layers and RNN cells against real TF 2.21: ../shared/oracle-next/layers_oracle.py --check re-runs
# every case of tests/conformance/layers_rnn.json in TF (tf_keras 2.21 legacy layers) and fails if
# TF now gives other names, shapes or values than the copy pins; then the conformance runner
# replays the same cases on varscope::layers. Needs $VENV (scripts/interop/venv.sh), cargo and
# ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (VENV=\$(bash scripts/interop/venv.sh))}"
oracle=../shared/oracle-next
[ -f "$oracle/layers_oracle.py" ] || { echo "check-layers: $oracle/layers_oracle.py is missing" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cp tests/conformance/layers_rnn.json "$out/layers_rnn.json"
if ! TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 "$VENV/bin/python" "$oracle/layers_oracle.py" \
  "$out/layers_rnn.json" --check >"$out/tf.log" 2>&1; then
  tail -40 "$out/tf.log" >&2
  echo "check-layers: FAILED: TF 2.21 disagrees with tests/conformance/layers_rnn.json (see above)" >&2
  exit 1
fi
tail -3 "$out/tf.log"
# The runner exits 1 while some cases fail (tests/it/layers.rs lists them); report the count.
cargo run --quiet --release --example conformance -- tests/conformance/layers_rnn.json >"$out/rs.log" 2>&1 || true
grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/rs.log" || { cat "$out/rs.log" >&2; echo "check-layers: the runner did not finish" >&2; exit 1; }
echo "check-layers: TF 2.21 reproduces the pinned cases"
