#!/usr/bin/env bash
# Graphviz renders varscope's DOT: the `tensorboard` example writes the seed graph's DOT (one
# cluster per scope) and `my_image_filter`'s manifest DOT; `dot` must accept both and draw the
# clusters. Installs graphviz with apt-get when `dot` is missing. Needs cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v dot >/dev/null; then
  echo "== installing graphviz" >&2
  apt-get install -y graphviz >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y graphviz >/dev/null; }
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release --example tensorboard -- "$out/logs" >/dev/null
for f in graph my_image_filter; do
  dot -Tsvg "$out/logs/$f.dot" -o "$out/$f.svg" 2>"$out/$f.err" || { cat "$out/$f.err" >&2; echo "check-dot: dot refused $f.dot" >&2; exit 1; }
  if [ -s "$out/$f.err" ]; then cat "$out/$f.err" >&2; echo "check-dot: dot warned on $f.dot" >&2; exit 1; fi
done
# The rendered graph has the scope clusters TensorBoard would show, with their labels.
for scope in conv1 conv2 conv1_1 conv2_1 image_filters; do
  grep -q "<title>cluster_[a-z_/0-9]*$scope</title>" "$out/graph.svg" || { echo "check-dot: no cluster $scope in graph.svg" >&2; exit 1; }
done
grep -q "<title>cluster_conv1</title>" "$out/my_image_filter.svg" || { echo "check-dot: no cluster conv1 in the manifest" >&2; exit 1; }
echo "check-dot: graphviz drew the graph ($(grep -c '<g id="node' "$out/graph.svg") nodes) and the manifest"
