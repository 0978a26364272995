"""Runs Gluon-style conformance steps (FORMAT.md) on real MXNet 1.9.1 Gluon.

Usage: python oracle.py CASES.json > WITH_EXPECT.json

Reads {"cases": [{"name", "steps", ...}]}, runs each case in a fresh thread and prints the
same cases with "expect" set to the lines MXNet printed. A case that refers to the ref of a
failed step (or raises anything unexpected) is dropped and counted on stderr. Needs
`pip install mxnet==1.9.1 numpy==1.23.5` (Python 3.11). Run on gluon_public.json, it
reproduces every expected line.
"""
import json
import re
import sys
import threading

from mxnet import gluon

_classes = {}


def block_class(hint):
    """A Block subclass whose `_alias()` (the lowercased class name) is `hint`."""
    if hint not in _classes:
        _classes[hint] = type(hint, (gluon.Block,), {})
    return _classes[hint]


def run_steps(steps, refs, out):
    stack = []  # this thread's entered blocks and their scope objects
    for step in steps:
        run_step(step, refs, out, stack)


def run_step(st, refs, out, stack):
    do = st["do"]
    if do == "block":
        kwargs = {}
        if "prefix" in st:
            kwargs["prefix"] = st["prefix"]
        try:
            if "share" in st:
                kwargs["params"] = refs[st["share"]].params
            if "share_all" in st:
                kwargs["params"] = refs[st["share_all"]].collect_params()
            block = block_class(st["hint"])(**kwargs)
        except AssertionError:
            out.append("error: duplicate_name")
            return
        if stack:
            stack[-1][0].register_child(block)  # `with parent.name_scope(): parent.x = X()`
        out.append(block.prefix)
        if "as" in st:
            refs[st["as"]] = block
    elif do == "enter":
        block = refs[st["block"]]
        scope = block.name_scope()
        scope.__enter__()
        stack.append((block, scope))
    elif do == "end":
        _, scope = stack.pop()
        try:
            scope.__exit__(None, None, None)
        except AttributeError:  # `_name_scope` already None: an inner entry ended it
            out.append("error: reentered_scope")
    elif do == "param":
        try:
            param = refs[st["block"]].params.get(st["name"], shape=tuple(st["shape"]))
        except AssertionError:
            out.append("error: shape_mismatch")
            return
        out.append(param.name)
        if "as" in st:
            refs[st["as"]] = param
    elif do == "shape":
        out.append("[" + ",".join(str(d) for d in refs[st["of"]].shape) + "]")
    elif do == "collect":
        try:
            keys = refs[st["block"]].collect_params(st.get("select")).keys()
        except AssertionError:
            out.append("error: duplicate_name")
            return
        except re.error:
            out.append("error: invalid_regex")
            return
        out.append(",".join(keys))
    elif do == "same":
        out.append("true" if refs[st["a"]] is refs[st["b"]] else "false")
    elif do == "register":
        refs[st["parent"]].register_child(refs[st["child"]])
    elif do == "thread":
        in_thread(lambda: run_steps(st["steps"], refs, out))
    else:
        raise ValueError(f"unknown step {do!r}")


def in_thread(body):
    """Runs `body` in a new thread, joins it and re-raises what it raised."""
    errors = []

    def wrapped():
        try:
            body()
        except Exception as e:  # noqa: BLE001 - handed to the caller
            errors.append(e)

    thread = threading.Thread(target=wrapped)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def run_case(steps):
    refs, out = {}, []
    try:
        in_thread(lambda: run_steps(steps, refs, out))
    except Exception:  # noqa: BLE001 - a case this generator should not have made
        return None
    return out


def main():
    data = json.load(open(sys.argv[1]))
    cases, dropped = [], 0
    for case in data["cases"]:
        out = run_case(case["steps"])
        if out is None:
            dropped += 1
            continue
        cases.append({**case, "expect": out})
    print(json.dumps({"cases": cases}))
    print(f"{len(cases)} cases, {dropped} dropped", file=sys.stderr)


main()
