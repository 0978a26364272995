#!/usr/bin/env bash
# Checkpoints against the real libraries (issue 11):
#  1. each TF fixture's model, rebuilt from its expected.json and saved with varscope's Saver,
#     passes ../shared/oracle-next/check_ckpt.py --byte-exact (TF 2.21 lists, reads and restores
#     it, and the files are byte-identical to TF's);
#  2. varscope's safetensors of each fixture loads in Python's safetensors with the same keys,
#     dtypes, shapes and values (bit for bit);
#  3. a safetensors file written by Python (numpy) reads back through `checkpoint inspect` with
#     the same values.
# Needs only $VENV (scripts/interop/venv.sh), cargo and ../shared. Fails loudly on a mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VENV:?set VENV to the interop venv (bash scripts/interop/venv.sh)}"
shared=../shared/oracle-next
py="$VENV/bin/python"
[ -f "$shared/check_ckpt.py" ] || { echo "check-ckpt: $shared/check_ckpt.py is missing" >&2; exit 1; }

cargo build --release --quiet --example checkpoint
tool=target/release/examples/checkpoint
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for case in tiny scoped_adam; do
  expected="$shared/public/checkpoints/$case/expected.json"
  echo "== check-ckpt: $case: varscope's Saver -> check_ckpt.py --byte-exact"
  "$tool" save-fixture "$expected" "$work/$case" >/dev/null
  "$py" "$shared/check_ckpt.py" "$work/$case" "$expected" --byte-exact

  echo "== check-ckpt: $case: varscope's safetensors -> Python safetensors"
  "$tool" save-fixture-safetensors "$expected" "$work/$case.safetensors"
  "$py" - "$work/$case.safetensors" "$expected" <<'PY'
import json, sys
import numpy as np
from safetensors.numpy import load_file

path, expected = sys.argv[1], json.load(open(sys.argv[2]))
got = load_file(path)
want = expected["variables"]
assert sorted(got) == sorted(want), "keys %s != %s" % (sorted(got), sorted(want))
for key, w in want.items():
    arr = got[key]
    ref = np.asarray(w["value"], dtype=w["dtype"])
    assert arr.dtype.name == w["dtype"], "%s: dtype %s, want %s" % (key, arr.dtype, w["dtype"])
    assert list(arr.shape) == w["shape"], "%s: shape %s, want %s" % (key, arr.shape, w["shape"])
    assert arr.tobytes() == ref.tobytes(), "%s: values differ" % key
print("PASS safetensors: %d tensors, keys, dtypes, shapes, values bit for bit" % len(want))
PY

  echo "== check-ckpt: $case: Python safetensors -> varscope's inspect"
  "$py" - "$work/$case.py.safetensors" "$expected" <<'PY'
import json, sys
import numpy as np
from safetensors.numpy import save_file

path, expected = sys.argv[1], json.load(open(sys.argv[2]))
save_file({k: np.asarray(w["value"], dtype=w["dtype"]) for k, w in expected["variables"].items()}, path)
PY
  "$tool" inspect "$work/$case.py.safetensors" > "$work/$case.inspect.json"
  "$py" - "$work/$case.inspect.json" "$expected" <<'PY'
import json, sys
got, want = json.load(open(sys.argv[1]))["variables"], json.load(open(sys.argv[2]))["variables"]
assert got == want, "inspect differs: %s" % sorted(k for k in want if got.get(k) != want[k])
print("PASS inspect of a Python-written safetensors file: %d tensors equal expected.json" % len(want))
PY
done
echo "check-ckpt: all passed"
