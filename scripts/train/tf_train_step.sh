#!/usr/bin/env bash
# TF's side of the training-step figures: runs tf_train_step.py in the pinned venv.
# Compare with: cargo bench --bench session   (same machine, same minute)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
VENV="${VENV:-$("$here/../interop/venv.sh")}"
exec "$VENV/bin/python" "$here/tf_train_step.py" "$@"
