"""Shrinks the cases on which the Rust runner disagrees with real TensorFlow.

Usage: python shrink.py RUNNER WITH_EXPECT.json > SHRUNK.json

RUNNER is the built conformance runner (`target/release/examples/conformance`).
For every case of WITH_EXPECT.json that the runner fails, removes steps (a
scope step together with its matching `end`, a whole thread, a thread's inner
steps) and optional fields as long as the runner still disagrees with the
lines TensorFlow prints for the smaller case (oracle.py runs it again). Prints
the shrunk cases with their TF expect lines. Cases are shrunk one at a time,
each candidate costs one TF run and one runner run.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402  (imports TensorFlow)

OPTIONAL = ["as", "initializer", "trainable", "dtype", "default_name", "reuse",
            "auxiliary_name_scope", "why"]


def runner_fails(runner, case):
    """True when the runner's lines differ from case["expect"]."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"cases": [case]}, f)
        path = f.name
    try:
        res = subprocess.run([runner, path], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)
    return "0 passed, 1 failed" in res.stdout + res.stderr


def with_expect(steps):
    """The case with TF's lines, or None when it leaves the step language."""
    case = {"name": "shrink", "steps": copy.deepcopy(steps)}
    try:
        case["expect"] = oracle.run_case(case)
    except Exception:  # pylint: disable=broad-except
        return None
    return case


def candidates(steps):
    """Smaller step lists: one removal or one field dropped each."""
    opened, pairs = [], []
    for i, st in enumerate(steps):
        if st["do"] in ("variable_scope", "name_scope"):
            opened.append(i)
        elif st["do"] == "end" and opened:
            pairs.append((opened.pop(), i))
    paired = {i for p in pairs for i in p}
    for i in range(len(steps) - 1, -1, -1):
        if i in paired and steps[i]["do"] == "end":
            continue
        if i in paired:
            j = next(e for o, e in pairs if o == i)
            yield [s for k, s in enumerate(steps) if k not in (i, j)]
        elif steps[i]["do"] in ("variable_scope", "name_scope"):
            yield steps[:i] + steps[i + 1:]  # an unclosed scope
        elif steps[i]["do"] == "end":
            continue
        else:
            yield steps[:i] + steps[i + 1:]
    for i, st in enumerate(steps):
        if st["do"] == "thread":
            for inner in candidates(st["steps"]):
                yield steps[:i] + [dict(st, steps=inner)] + steps[i + 1:]
            yield steps[:i] + st["steps"] + steps[i + 1:]  # inline it (if it still fails)
        for key in OPTIONAL:
            if key in st:
                smaller = {k: v for k, v in st.items() if k != key}
                yield steps[:i] + [smaller] + steps[i + 1:]
        if st["do"] in ("get_variable", "variable") and st.get("shape") not in (None, [1]):
            yield steps[:i] + [dict(st, shape=[1])] + steps[i + 1:]


def shrink(runner, case):
    best = with_expect(case["steps"])
    if best is None or not runner_fails(runner, best):
        return None
    progress = True
    while progress:
        progress = False
        for steps in candidates(best["steps"]):
            cand = with_expect(steps)
            if cand is not None and runner_fails(runner, cand):
                best = cand
                progress = True
                break
    best["name"] = case["name"] + "_min"
    return best


def main():
    runner, path = sys.argv[1], sys.argv[2]
    out = []
    for case in json.load(open(path))["cases"]:
        if not runner_fails(runner, case):
            continue
        small = shrink(runner, case)
        if small is not None:
            out.append(small)
            print("shrunk %s to %d steps" % (case["name"], len(small["steps"])), file=sys.stderr)
    json.dump({"cases": out}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
