"""Picks a diverse subset of cases that oracle.py filled in.

Usage: python pick.py COUNT MUST.json WITH_EXPECT.json... > PICKED.json

Keeps every case of MUST.json (e.g. the shrunk divergences), then adds cases
from the other files greedily: each time the case bringing the most features
not yet covered (step kinds with their fields, reuse values, scope-name
shapes, op types and name shapes, printed line kinds, thread depth, pairs of
consecutive step kinds), the shorter one on ties, until COUNT cases are kept.
"""
import json
import re
import sys

ROOT_OK = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")


def walk(steps, depth=0):
    for st in steps:
        yield st, depth
        if st["do"] == "thread":
            yield from walk(st["steps"], depth + 1)


def name_shape(name):
    if name is None:
        return "none"
    if name == "":
        return "empty"
    parts = []
    if name.endswith("/"):
        parts.append("exact")
    if "/" in name.rstrip("/"):
        parts.append("slash")
    if not ROOT_OK.match(name):
        parts.append("bad-root")
    if name != name.lower():
        parts.append("upper")
    if re.search(r"_\d+$", name.rstrip("/")):
        parts.append("suffix")
    return "+".join(parts) or "plain"


def features(case):
    f = set()
    prev = None
    for st, depth in walk(case["steps"]):
        do = st["do"]
        keys = ",".join(sorted(k for k in st if k not in ("do", "as", "steps")))
        f.add(f"{do}({keys})")
        f.add(f"{do}@depth{depth}")
        if prev:
            f.add(f"{prev}->{do}")
        prev = do
        if do in ("variable_scope", "name_scope", "get_variable", "variable", "op"):
            f.add(f"{do}:name={name_shape(st.get('name'))}")
        if do == "variable_scope":
            f.add(f"vs:reuse={st.get('reuse', 'absent')}:{'scope' if 'scope' in st else 'name'}")
            f.add(f"vs:aux={st.get('auxiliary_name_scope', True)}")
        if do == "op":
            f.add(f"op:{st['type']}:{name_shape(st.get('name')) if 'name' in st else 'default'}")
        for key in ("dtype", "shape", "initializer"):
            if key in st:
                val = st[key]
                if key == "initializer":
                    val = list(val)[0]
                elif key == "shape":
                    val = "neg" if any(d < 0 for d in val) else len(val)
                f.add(f"{do}:{key}={val}")
    for line in case["expect"]:
        if line.startswith("error:"):
            f.add(line)
        elif line.startswith("["):
            f.add("value")
        elif line in ("true", "false", "auto"):
            f.add("flag:" + line)
        elif re.search(r"_\d+(:0)?$", line) or re.search(r"_\d+/", line):
            f.add("suffixed name")
    return f


def main():
    count = int(sys.argv[1])
    kept = json.load(open(sys.argv[2]))["cases"]
    pool = [c for path in sys.argv[3:] for c in json.load(open(path))["cases"]]
    covered = set()
    for c in kept:
        covered |= features(c)
    feats = [features(c) for c in pool]
    taken = set()
    while len(kept) < count:
        best, best_gain = None, -1
        for i, c in enumerate(pool):
            if i in taken:
                continue
            gain = len(feats[i] - covered)
            if gain > best_gain or gain == best_gain and best is not None and (
                    len(json.dumps(c["steps"])) < len(json.dumps(pool[best]["steps"]))):
                best, best_gain = i, gain
        if best is None:
            break
        taken.add(best)
        covered |= feats[best]
        kept.append(pool[best])
    json.dump({"cases": kept}, sys.stdout, indent=None)
    print()
    print(f"{len(kept)} cases, {len(covered)} features", file=sys.stderr)


if __name__ == "__main__":
    main()
