"""Generates random Gluon-style step cases (FORMAT.md) for oracle.py to fill in.

Usage: python gen.py SEED COUNT [--dup] > CASES.json

Steps follow the format's promises: refs come from earlier steps, every `end` matches an
`enter` of the same thread, a `thread` list ends every scope it enters, and no `register`
makes a block its own descendant. `--dup` favours explicit prefixes and few names, so that
collections meet different parameters of the same name.
"""
import json
import random
import sys

HINTS = ["dense", "conv", "model", "seq"]
PREFIXES = ["", "fc_", "x_", "dense0_", "a", "model0_"]
NAMES = ["weight", "bias", "w", "_b"]
SHAPES = [[2, 3], [0, 3], [2, 0], [4, 3], [2], [0], [], [1], [2, 3, 1], [0, 0]]
SELECTS = [None, "", ".*weight", "model0_", "dense", ".*_bias$", "(", ".*dense0_.*|.*conv.*",
           "x_w", "dense0_", "[a-m]", "model0_dense[01]_", "x_[", ".*w$", "fc"]
PREFIX_P = 0.35


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.n = 0
        self.blocks = []
        self.params = []
        self.children = {}

    def fresh(self, kind):
        self.n += 1
        return f"{kind}{self.n}"

    def reachable(self, a, b):
        todo, seen = [a], set()
        while todo:
            x = todo.pop()
            if x == b:
                return True
            if x not in seen:
                seen.add(x)
                todo.extend(self.children.get(x, []))
        return False

    def steps(self, depth, length):
        r = self.rng
        out, stack = [], []
        for _ in range(length):
            k = r.random()
            if k < 0.28 or not self.blocks:
                st = {"do": "block", "hint": r.choice(HINTS)}
                if r.random() < PREFIX_P:
                    st["prefix"] = r.choice(PREFIXES)
                elif r.random() < 0.1:
                    st["prefix"] = None
                if self.blocks and r.random() < 0.2:
                    st["share" if r.random() < 0.5 else "share_all"] = r.choice(self.blocks)
                name = self.fresh("b")
                st["as"] = name
                if stack:
                    self.children.setdefault(stack[-1], []).append(name)
                self.blocks.append(name)
                out.append(st)
            elif k < 0.42 and len(stack) < 4:
                b = r.choice(stack) if stack and r.random() < 0.2 else r.choice(self.blocks)
                out.append({"do": "enter", "block": b})
                stack.append(b)
            elif k < 0.52 and stack:
                out.append({"do": "end"})
                stack.pop()
            elif k < 0.70:
                name = self.fresh("p")
                out.append({"do": "param", "block": r.choice(self.blocks), "name": r.choice(NAMES),
                            "shape": r.choice(SHAPES), "as": name})
                self.params.append(name)
            elif k < 0.74 and self.params:
                out.append({"do": "shape", "of": r.choice(self.params)})
            elif k < 0.84:
                st = {"do": "collect", "block": r.choice(self.blocks)}
                select = r.choice(SELECTS)
                if select is not None:
                    st["select"] = select
                out.append(st)
            elif k < 0.88 and len(self.params) >= 2:
                out.append({"do": "same", "a": r.choice(self.params), "b": r.choice(self.params)})
            elif k < 0.95:
                parent, child = r.choice(self.blocks), r.choice(self.blocks)
                if not self.reachable(child, parent):
                    self.children.setdefault(parent, []).append(child)
                    out.append({"do": "register", "parent": parent, "child": child})
            elif depth < 2:
                out.append({"do": "thread", "steps": self.steps(depth + 1, r.randint(1, 8))})
        out.extend({"do": "end"} for _ in stack)
        return out


def main():
    global PREFIX_P
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    if "--dup" in sys.argv[3:]:
        NAMES[:] = ["weight", "bias"]
        PREFIXES[:] = ["x_", "", "fc_", "model0_"]
        SHAPES[:] = [[1], [0]]
        PREFIX_P = 0.6
    cases = []
    for i in range(count):
        rng = random.Random(seed * 100000 + i)
        steps = Gen(rng).steps(0, rng.randint(4, 30))
        cases.append({"name": f"fuzz_{seed}_{i}", "steps": steps, "expect": []})
    print(json.dumps({"cases": cases}))


main()
