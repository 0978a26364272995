#!/usr/bin/env bash
# varscope, candle-core 0.11 and TensorFlow 2.21 side by side on the seed workloads, in one command.
#
#   scripts/perf/compare.sh [ROUNDS] [BUDGET_SECONDS]      (defaults: 3 runs, 1 s per workload)
#
# Each run is one process of the compare crate (`varscope-compare --tf $VENV/bin/python`): it
# starts compare/tf_side.py --serve, which builds the same graphs in TF on the same data, checks
# TF's output against varscope's (max abs difference, fails above 1e-3), and then runs one
# timed session.run (2 intra-op threads) per request, so TF's workloads take their turn in the
# same round-robin rounds as varscope's and candle's. The table at the end gives, per workload,
# the median over runs of each run's median, the range of those medians (the spread between
# runs) and the ratios computed within each run. Needs cargo and the venv of
# scripts/interop/venv.sh ($VENV, made or found by that script). Not part of .ci/run: a run
# takes about a minute, and the first build compiles candle (minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
budget="${2:-1}"
VENV="${VENV:-$(bash scripts/interop/venv.sh)}"
py="$VENV/bin/python"
[ -x "$py" ] || { echo "no python in VENV=$VENV" >&2; exit 1; }
cargo build --release --quiet --manifest-path compare/Cargo.toml
bin=compare/target/release/varscope-compare
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "== run $r / $rounds, load average before $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  TF_CPP_MIN_LOG_LEVEL=2 "$bin" --tf "$py" --budget "$budget" --summary "$out/run.$r.tsv" --dump "$out/forward.bin" \
    > "$out/run.$r.md" 2> "$out/run.$r.err" || { cat "$out/run.$r.err" "$out/run.$r.md" >&2; exit 1; }
  cut -d' ' -f1-3 /proc/loadavg > "$out/load.$r"
  grep "max abs difference" "$out/run.$r.md" >&2
done
echo "Last run:"
cat "$out/run.$rounds.md"
echo
"$py" scripts/perf/summarize.py "$out" "$rounds"
