"""Runs Gluon-style conformance steps (FORMAT.md) on real MXNet 1.9.1 Gluon.

Usage: python oracle.py CASES.json > WITH_EXPECT.json

Reads {"cases": [{"name", "steps", ...}]}, runs each case in a fresh thread and prints the
same cases with "expect" set to the lines MXNet produced. A case that refers to the ref of
a failed step (or otherwise raises) is dropped and counted on stderr. Needs
`pip install mxnet==1.9.1 numpy==1.23.5`. Run on gluon_public.json it reproduces every
expected line.
"""
import json
import re
import sys
import threading

from mxnet import gluon

_classes = {}
def block_class(hint):
    if hint not in _classes:
        _classes[hint] = type(hint, (gluon.Block,), {})
    return _classes[hint]

class Missing(Exception):
    pass

def get(refs, k):
    if k not in refs:
        raise Missing(k)
    return refs[k]

def run_steps(steps, refs, out):
    stack = []
    for st in steps:
        run_step(st, refs, out, stack)

def run_step(st, refs, out, stack):
    d = st["do"]
    if d == "block":
        kw = {}
        if "prefix" in st:
            kw["prefix"] = st["prefix"]
        try:
            if "share" in st:
                kw["params"] = get(refs, st["share"]).params
            if "share_all" in st:
                kw["params"] = get(refs, st["share_all"]).collect_params()
            b = block_class(st["hint"])(**kw)
        except AssertionError:
            out.append("error: duplicate_name"); return
        if stack:
            stack[-1][0].register_child(b)
        out.append(b.prefix)
        if "as" in st: refs[st["as"]] = b
    elif d == "enter":
        b = get(refs, st["block"])
        sc = b.name_scope()
        sc.__enter__()
        stack.append((b, sc))
    elif d == "end":
        b, sc = stack.pop()
        try:
            sc.__exit__(None, None, None)
        except AttributeError:
            out.append("error: reentered_scope")
    elif d == "param":
        b = get(refs, st["block"])
        try:
            p = b.params.get(st["name"], shape=tuple(st["shape"]))
        except AssertionError:
            out.append("error: shape_mismatch"); return
        out.append(p.name)
        if "as" in st: refs[st["as"]] = p
    elif d == "shape":
        p = get(refs, st["of"])
        out.append("[" + ",".join(str(x) for x in p.shape) + "]")
    elif d == "collect":
        b = get(refs, st["block"])
        try:
            r = b.collect_params(st.get("select"))
        except AssertionError:
            out.append("error: duplicate_name"); return
        except re.error:
            out.append("error: invalid_regex"); return
        out.append(",".join(r.keys()))
    elif d == "same":
        out.append("true" if get(refs, st["a"]) is get(refs, st["b"]) else "false")
    elif d == "register":
        get(refs, st["parent"]).register_child(get(refs, st["child"]))
    elif d == "thread":
        err = []
        def body():
            try:
                run_steps(st["steps"], refs, out)
            except Exception as e:
                err.append(e)
        t = threading.Thread(target=body); t.start(); t.join()
        if err:
            raise err[0]
    else:
        raise ValueError(d)

def run_case(steps):
    # each case in a fresh thread
    refs, out, err = {}, [], []
    def body():
        try:
            run_steps(steps, refs, out)
        except Exception as e:
            err.append(e)
    t = threading.Thread(target=body); t.start(); t.join()
    if err:
        return None
    return out

if __name__ == "__main__":
    data = json.load(open(sys.argv[1]))
    cases = []
    bad = 0
    for c in data["cases"]:
        out = run_case(c["steps"])
        if out is None:
            bad += 1; continue
        cases.append({"name": c["name"], "steps": c["steps"], "expect": out})
    print(json.dumps({"cases": cases}))
    print(f"{len(cases)} ok, {bad} discarded", file=sys.stderr)
