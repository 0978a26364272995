#!/usr/bin/env bash
# TensorBoard draws varscope's graph as a person sees it: the `tensorboard` example's log dir is
# served by TensorBoard 2.21 (from $VENV) on 127.0.0.1, headless Chromium (installed with apt-get
# when missing) opens the Graphs page, and tensorboard_page.js reads the drawn nodes, expands
# `image_filters` and checks that conv1, conv2, conv1_1 and conv2_1 appear inside it. The
# screenshot is kept at $SCREENSHOT (default: target/tensorboard-graph.png). Needs $VENV, cargo,
# and node (20+, for its WebSocket); every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (VENV=\$(bash scripts/interop/venv.sh))}"
command -v node >/dev/null || { echo "tensorboard-page: node is required" >&2; exit 1; }
if ! command -v chromium >/dev/null; then
  echo "== installing chromium" >&2
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
shot="${SCREENSHOT:-target/tensorboard-graph.png}"
out="$(mktemp -d)"
tb_pid=""
cleanup() {
  if [ -n "$tb_pid" ]; then
    kill "$tb_pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$tb_pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$tb_pid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT
cargo run --quiet --release --example tensorboard -- "$out/logs" >/dev/null
port=$((16000 + $$ % 1000))
"$VENV/bin/tensorboard" --logdir "$out/logs" --host 127.0.0.1 --port "$port" >"$out/tb.log" 2>&1 &
tb_pid=$!
for _ in $(seq 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/data/runs" && break
  kill -0 "$tb_pid" 2>/dev/null || { cat "$out/tb.log" >&2; echo "tensorboard-page: tensorboard exited" >&2; exit 1; }
  sleep 0.5
done
mkdir -p "$(dirname "$shot")"
result="$(timeout 180 node --experimental-websocket --no-warnings scripts/interop/tensorboard_page.js \
  "http://127.0.0.1:$port/#graphs&run=." "$shot" image_filters)" || {
  echo "$result" >&2; echo "tensorboard-page: the page did not draw image_filters" >&2; exit 1; }
echo "$result"
for group in conv1 conv2 conv1_1 conv2_1; do
  grep -q "\"image_filters/$group\"" <<<"$result" || {
    echo "tensorboard-page: image_filters/$group not drawn after expanding image_filters" >&2; exit 1; }
done
echo "tensorboard-page: TensorBoard drew image_filters with conv1, conv2, conv1_1, conv2_1 ($shot)"
