"""Generates random TF-style step cases (FORMAT.md, first part) for oracle.py to fill in.

Usage: python gen.py SEED COUNT > CASES.json

Steps stay within the format's promises: refs only name values stored by earlier
steps (oracle.py drops a case whose ref belongs to a step that failed), every
`end` closes a scope this thread opened (failed scope steps count as opened),
and `value` is asked mostly of variables built from deterministic initializers
(oracle.py drops a case whose value differs between two sessions). Name pools
are small on purpose, so that scopes are re-entered, counters advance, names
collide (also case-insensitively) and names hit the validity rules.
"""
import json
import random
import sys

SCOPE_NAMES = ["foo", "bar", "foo", "bar", "Foo", "a", "foo_1", "s", "b.c", "x-y",
               "_u", "-d", "a\\b", "a>b", "a b", "1x", ".z", "foo/bar", "Bar", "s_1",
               "", "foo/", "dense", "dense_1", "model", "Dense"]
DEFAULT_NAMES = ["dense", "dense", "model", "foo", "Dense", "_d", "a b"]
NS_NAMES = [None, "", "foo", "bar", "foo/", "bar/", "Foo", "k", "k/", "foo/bar/", "foo_1/",
            "a b", "_n", "-n", ".n", "n\\m", "n>m", "foo_1", "x.y", "k_1"]
VAR_NAMES = ["v", "w", "v", "w", "V", "v_1", "foo", "foo/v", "bar/w", "a b", "_v", "-v",
             ".v", "v\\x", "v>x", "Const", "add", "b.c", "v/", "foo/bar/v", "W", "dense"]
TFVAR_NAMES = [None, "v", "w", "V", "foo", "Variable", "v_1", "a b", "_v", "x-y", "foo/",
               "v/", "c", "Foo", "variable", "foo/v", "foo/v/", "", "Const", "v\\x"]
OP_NAMES = [None, None, "c", "C", "foo", "Foo", "v", "add", "Add", "Const", "x/", "foo/",
            "foo/c/", "c_1", "a b", "_c", "-c", ".c", "a\\c", "a>c", "bar", "Relu", "foo/c",
            "a/b", "C/", "Foo/", "v_1", "", "MatMul", "dense", "mul", "x.y", "c-1", "read",
            "Assign", "Initializer", "Variable", "AddV2", "v/", "foo_1", "relu", "IDENTITY"]
SHAPES = [[1], [1], [2], [], [2, 3], [1, 1], [3], [-1], [2, -1], [0], [2, 0], [1, 2, 2]]
DTYPES = ["float32", "float64", "int32"]


class Gen:
    def __init__(self, rng, profile):
        self.rng = rng
        self.profile = profile
        self.n = 0
        self.vscopes = []  # refs to captured variable scope objects
        self.nscopes = []  # refs to captured name-scope strings
        self.vars = []  # (ref, dtype, shape, deterministic)
        self.tensors = []  # (ref, dtype, shape): op outputs and variables

    def fresh(self, kind):
        self.n += 1
        return f"{kind}{self.n}"

    def pick(self, pool):
        if self.profile == COLLIDE:
            for full, small in COLLIDE_POOLS:
                if pool is full or pool == full[:len(pool)]:  # the list or a prefix slice
                    pool = small
                    break
        return self.rng.choice(pool)

    def init(self, dtype, deterministic_bias=0.75):
        """An INIT and whether its value is deterministic."""
        r = self.rng
        k = r.random()
        if k < deterministic_bias:
            c = r.random()
            if c < 0.45:
                if dtype == "int32" and r.random() < 0.7 or r.random() < 0.15:
                    x = r.choice([0, 1, 2, 7, -3, 100000])
                else:
                    x = r.choice([1.0, 0.5, -2.0, 3.25, 0.0, 1.5, 0.1, -0.0, 123456.789,
                                  1e-7, 2.0, -1.0000005])
                return {"constant": x}, True
            if c < 0.65:
                return {"zeros": True}, True
            if c < 0.85:
                return {"ones": True}, True
            if c < 0.93:
                b = r.choice([2.0, 2.5, 0.0, 2, -1])
                return {"random_uniform": {"min": b, "max": b}}, True
            # Not mean 0: TF prints 0.0 or -0.0 at random then (see the notes).
            return {"random_normal": {"mean": r.choice([1.5, 2, -0.25]),
                                      "stddev": r.choice([0.0, 0])}}, True
        c = r.random()
        if c < 0.4:
            return {"random_normal": {"mean": r.choice([0.0, 0]), "stddev": r.choice([1.0, 1])}}, False
        if c < 0.7:
            return {"random_uniform": {"min": -1.0, "max": 1.0}}, False
        lo, hi = r.choice([(-1, 1), (0, 5), (3, 1), (0, 1.0), (1.5, 4)])
        return {"random_uniform": {"min": lo, "max": hi}}, False

    def variable_scope(self):
        r = self.rng
        st = {"do": "variable_scope"}
        k = r.random()
        if k < 0.25 and self.vscopes:
            st["scope"] = r.choice(self.vscopes)
            if r.random() < 0.15:
                st["default_name"] = self.pick(DEFAULT_NAMES)
        elif k < 0.45:
            st["name"] = None
            if r.random() < 0.95:
                st["default_name"] = self.pick(DEFAULT_NAMES[:5] if r.random() < 0.9 else DEFAULT_NAMES)
        else:
            st["name"] = self.pick(SCOPE_NAMES[:8]) if r.random() < 0.7 else self.pick(SCOPE_NAMES)
            if r.random() < 0.1:
                st["default_name"] = self.pick(DEFAULT_NAMES)
        if r.random() < 0.45:
            st["reuse"] = r.choice([True, True, False, None, "auto", "auto"])
        if r.random() < 0.15:
            st["initializer"], _ = self.init("float32", 0.9)
        if r.random() < 0.12:
            st["dtype"] = r.choice(DTYPES)
        if r.random() < 0.15:
            st["auxiliary_name_scope"] = r.random() < 0.3
        if r.random() < 0.7:
            st["as"] = self.fresh("vs")
            self.vscopes.append(st["as"])
        return st

    def name_scope(self):
        r = self.rng
        st = {"do": "name_scope"}
        if self.nscopes and r.random() < 0.25:
            st["scope"] = r.choice(self.nscopes)
        else:
            st["name"] = self.pick(NS_NAMES[:12]) if r.random() < 0.75 else self.pick(NS_NAMES)
            if st["name"] is None and r.random() < 0.6 or r.random() < 0.08:
                st["default_name"] = self.pick(DEFAULT_NAMES[:5])
        if r.random() < 0.6:
            st["as"] = self.fresh("ns")
            self.nscopes.append(st["as"])
        return st

    def get_variable(self):
        r = self.rng
        st = {"do": "get_variable"}
        st["name"] = self.pick(VAR_NAMES[:6]) if r.random() < 0.75 else self.pick(VAR_NAMES)
        shape = None
        if r.random() < 0.88:
            shape = self.pick(SHAPES[:7]) if r.random() < 0.9 else self.pick(SHAPES)
            st["shape"] = shape
        dtype = "float32"
        if r.random() < 0.25:
            dtype = r.choice(DTYPES)
            st["dtype"] = dtype
        det = dtype == "int32"
        if r.random() < 0.6:
            st["initializer"], det = self.init(dtype)
        if r.random() < 0.12:
            st["trainable"] = r.random() < 0.5
        if r.random() < 0.7:
            st["as"] = self.fresh("v")
            self.vars.append((st["as"], dtype, shape, det))
            self.tensors.append((st["as"], dtype, shape))
        return st

    def variable(self):
        r = self.rng
        st = {"do": "variable", "name": self.pick(TFVAR_NAMES)}
        shape = self.pick(SHAPES[:7]) if r.random() < 0.93 else self.pick(SHAPES)
        st["shape"] = shape
        dtype = "float32"
        if r.random() < 0.25:
            dtype = r.choice(DTYPES)
            st["dtype"] = dtype
        det = True
        if r.random() < 0.7:
            st["initializer"], det = self.init(dtype)
        if r.random() < 0.12:
            st["trainable"] = r.random() < 0.5
        if r.random() < 0.7:
            st["as"] = self.fresh("t")
            self.vars.append((st["as"], dtype, shape, det))
            self.tensors.append((st["as"], dtype, shape))
        return st

    def op(self):
        r = self.rng
        kind = r.choice(["const", "const", "add", "add_fn", "mul", "mul_fn", "matmul", "relu",
                         "identity"])
        st = {"do": "op", "type": kind}
        two = kind in ("add", "add_fn", "mul", "mul_fn", "matmul")
        if kind == "const":
            dtype, shape = "float32", []
        else:
            if not self.tensors:
                return {"do": "op", "type": "const", "as": self.fresh("c")}
            a = r.choice(self.tensors)
            ins = [a[0]]
            dtype, shape = a[1], a[2]
            if two:
                same = [t for t in self.tensors if t[1] == a[1]]
                b = r.choice(same) if same and r.random() < 0.85 else r.choice(self.tensors)
                ins.append(b[0])
            if kind == "matmul":
                mats = [t for t in self.tensors if t[2] == [1, 1]]
                if mats and r.random() < 0.85:
                    ins = [r.choice(mats)[0], r.choice(mats)[0]]
            st["inputs"] = ins
        if kind not in ("add", "mul") and r.random() < 0.5:
            st["name"] = self.pick(OP_NAMES[:10]) if r.random() < 0.7 else self.pick(OP_NAMES)
        if r.random() < 0.75:
            st["as"] = self.fresh("o")
            self.tensors.append((st["as"], dtype, shape))
        return st

    def share(self):
        """A create-then-share pattern: the same scope entered twice, the second
        time reusing (by name or captured object), with the shape or dtype
        sometimes changed, then `same`."""
        r = self.rng
        name = self.pick(SCOPE_NAMES[:8])
        var = self.pick(VAR_NAMES[:6])
        shape = self.pick(SHAPES[:7])
        dtype = r.choice(DTYPES)
        a, b, vs = self.fresh("v"), self.fresh("v"), self.fresh("vs")
        first = {"do": "get_variable", "name": var, "shape": shape, "as": a}
        if dtype != "float32" or r.random() < 0.2:
            first["dtype"] = dtype
        second = {"do": "get_variable", "name": var, "as": b}
        k = r.random()
        if k < 0.45:
            second["shape"] = shape
        elif k < 0.65:
            second["shape"] = self.pick(SHAPES[:7])
        if r.random() < 0.3:
            second["dtype"] = r.choice(DTYPES)
        elif "dtype" in first and r.random() < 0.7:
            second["dtype"] = first["dtype"]
        again = {"do": "variable_scope", "reuse": r.choice([True, True, "auto", None, False])}
        if r.random() < 0.5:
            again["scope"] = vs
        else:
            again["name"] = name
        out = [{"do": "variable_scope", "name": name, "as": vs}, first, {"do": "end"}, again, second]
        if r.random() < 0.3:
            out.append({"do": "reuse"})
        out.append({"do": "end"})
        out.append({"do": "same", "a": a, "b": b})
        self.vscopes.append(vs)
        for ref, sh in ((a, shape), (b, second.get("shape"))):
            self.vars.append((ref, dtype, sh, dtype == "int32"))
            self.tensors.append((ref, dtype, sh))
        return out

    def query(self):
        r = self.rng
        k = r.random()
        if k < 0.14:
            st = {"do": "scope_name"}
            if self.vscopes and r.random() < 0.5:
                st["scope"] = r.choice(self.vscopes)
            return st
        if k < 0.26:
            st = {"do": "original_name_scope"}
            if self.vscopes and r.random() < 0.6:
                st["scope"] = r.choice(self.vscopes)
            return st
        if k < 0.48:
            return {"do": "current_name_scope"}
        if k < 0.58:
            st = {"do": "reuse"}
            if self.vscopes and r.random() < 0.4:
                st["scope"] = r.choice(self.vscopes)
            return st
        if k < 0.68 and len(self.vars) >= 2:
            a, b = r.sample(self.vars, 2)
            return {"do": "same", "a": a[0], "b": b[0]}
        if k < 0.78:
            dets = [v for v in self.vars if v[3]]
            if dets:
                return {"do": "value", "of": r.choice(dets)[0]}
        if k < 0.92:
            return {"do": "global_variables"}
        return {"do": "trainable_variables"}

    def steps(self, depth, length):
        """A step list; `end`s match the scopes opened in this list."""
        r = self.rng
        kinds, weights = zip(*PROFILES[self.profile].items())
        out, open_n = [], 0
        for _ in range(length):
            k = r.choices(kinds, weights)[0]
            if k == "vs":
                out.append(self.variable_scope())
                open_n += 1
            elif k == "ns":
                out.append(self.name_scope())
                open_n += 1
            elif k == "end" and open_n:
                out.append({"do": "end"})
                open_n -= 1
            elif k == "gv":
                out.append(self.get_variable())
            elif k == "var":
                out.append(self.variable())
            elif k == "op":
                out.append(self.op())
            elif k == "share":
                out.extend(self.share())
            elif k == "reuse_variables":
                out.append({"do": "reuse_variables"})
            elif k == "gvs":
                st = {"do": "get_variable_scope", "as": self.fresh("gs")}
                self.vscopes.append(st["as"])
                out.append(st)
            elif k == "thread" and depth < 2:
                out.append({"do": "thread", "steps": self.steps(depth + 1, r.randint(1, 8))})
            else:
                out.append(self.query())
        # Sometimes leave scopes open: the thread or case end closes them.
        if r.random() < 0.6:
            out.extend({"do": "end"} for _ in range(open_n))
        return out


# Step mixes: balanced, scope-heavy (counters, re-entry, threads), name-heavy (ops, variables).
PROFILES = [
    {"vs": 17, "ns": 8, "end": 13, "gv": 18, "var": 6, "op": 11, "reuse_variables": 3, "gvs": 4,
     "thread": 5, "query": 15, "share": 3},
    {"vs": 25, "ns": 12, "end": 20, "gv": 12, "var": 3, "op": 5, "reuse_variables": 4, "gvs": 6,
     "thread": 9, "query": 16},
    {"vs": 10, "ns": 10, "end": 10, "gv": 15, "var": 15, "op": 25, "reuse_variables": 1, "gvs": 2,
     "thread": 3, "query": 9},
    {"vs": 20, "ns": 6, "end": 16, "gv": 22, "var": 4, "op": 4, "reuse_variables": 5, "gvs": 8,
     "thread": 12, "query": 14, "share": 6},
    {"vs": 18, "ns": 10, "end": 15, "gv": 16, "var": 10, "op": 14, "reuse_variables": 2, "gvs": 4,
     "thread": 6, "query": 10, "share": 3},
]

# The last profile draws names from tiny pools, so that almost every name collides
# (also case-insensitively, and with the `_1` suffixes TF makes).
COLLIDE = len(PROFILES) - 1
COLLIDE_POOLS = [
    (SCOPE_NAMES, ["foo", "Foo", "foo_1", "v", "FOO_1", "foo_2"]),
    (DEFAULT_NAMES, ["foo", "Foo", "v"]),
    (NS_NAMES, ["foo", "Foo", "foo/", "foo_1/", "v", "v/", "foo_1", None, ""]),
    (VAR_NAMES, ["v", "V", "v_1", "foo", "foo_1", "Foo"]),
    (TFVAR_NAMES, ["v", "V", "v_1", "foo", "foo/", "v/", None, "Variable", "", "read"]),
    (OP_NAMES, ["v", "V", "foo", "Foo", "foo_1", "v/", "foo/", None, "Const", "const", "",
                "read", "Assign", "VariableV2", "v/read", "Initializer"]),
]


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    cases = []
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        gen = Gen(rng, i % len(PROFILES))
        steps = gen.steps(0, rng.randint(4, 22) if rng.random() < 0.7 else rng.randint(25, 50))
        cases.append({"name": f"gen_{seed}_{i}", "steps": steps})
    json.dump({"cases": cases}, sys.stdout, indent=None)
    print()


if __name__ == "__main__":
    main()
