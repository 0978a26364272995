#!/usr/bin/env bash
# The cifar10 example against TensorFlow (issue 13): TF 2.21 builds cifar10.py's inference(),
# saves a checkpoint and the logits of two images; varscope's port restores that checkpoint by
# name (checked first against the model's compile-time manifest) and must give the same
# variable names, the same logits tensor name and the same logits (to 1e-4 relative, float32
# kernels summing in different orders). Needs only $VENV, cargo and ../shared. Fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (bash scripts/interop/venv.sh)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== check-cifar10: TF 2.21 builds cifar10.py, saves a checkpoint and its logits"
"$VENV/bin/python" scripts/interop/cifar10_tf.py "$work" 2>/dev/null
cargo build --release --quiet --example cifar10
echo "== check-cifar10: varscope restores it by name and computes the logits"
target/release/examples/cifar10 --restore "$work/model.ckpt" --input "$work/images.json" > "$work/ours.json"
"$VENV/bin/python" - "$work/expected.json" "$work/ours.json" <<'PY'
import json, sys
import numpy as np
want, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert got["variables"] == want["variables"], "variables %s != TF's %s" % (got["variables"], want["variables"])
assert got["logits_name"] == want["logits_name"], "logits %s != TF's %s" % (got["logits_name"], want["logits_name"])
w, g = np.array(want["logits"]), np.array(got["logits"])
err = np.max(np.abs(w - g) / (1e-3 + np.abs(w)))
assert w.shape == g.shape and err < 1e-4, "logits differ from TF's: max relative error %g\n%s\n%s" % (err, w, g)
print("check-cifar10: %d variables and %d logits as TF's (max relative error %.2g)" % (len(want["variables"]), w.size, err))
PY
