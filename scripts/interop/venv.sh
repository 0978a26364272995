#!/usr/bin/env bash
# Makes (once) the Python venv that the interop checks run in, outside the clone so later runs on
# the same machine reuse it, and prints its path. The pins are those of ../shared/oracle-next/README.md.
# `cargo test` never needs it; only the checks in scripts/interop/check-*.sh do.
set -euo pipefail
venv="${VARSCOPE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/varscope/venv-tf2.21}"
pins="tensorflow-cpu==2.21.0 tensorboard==2.21.0 safetensors numpy"
nodeps="tf-keras==2.21.0" # it depends on `tensorflow`, not `tensorflow-cpu`
stamp="$venv/.varscope-pins"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$pins; $nodeps" ]; then
  echo "== making the interop venv in $venv (once per machine)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps $nodeps >&2
  echo "$pins; $nodeps" > "$stamp"
fi
echo "$venv"
