"""Runs TF-style conformance steps (FORMAT.md, first part) on real TensorFlow 2.21.

Usage: python oracle.py [--repair] CASES.json > WITH_EXPECT.json

Reads {"cases": [{"name", "steps", ...}]}, runs each case on a fresh graph in
`tf.compat.v1` graph mode (`disable_v2_behavior()`) and prints the same cases
with "expect" set to the lines TensorFlow printed. A case that refers to the
ref of a failed step (or raises anything the step language does not map to an
error kind) is dropped and counted on stderr. Needs `pip install
tensorflow-cpu==2.21.*` (Python 3.11). Run on tf_public.json, it reproduces
every expected line.
"""
import json
import os
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
from tensorflow.python.util import deprecation  # noqa: E402

tf.get_logger().setLevel("ERROR")
deprecation._PRINT_DEPRECATION_WARNINGS = False  # pylint: disable=protected-access
tf.compat.v1.disable_v2_behavior()
v1 = tf.compat.v1

DTYPES = {"float32": tf.float32, "float64": tf.float64, "int32": tf.int32}


class Dropped(Exception):
    """The case is outside the step language (a ref of a failed step, ...)."""


class MissingRef(Dropped):
    """A step names a ref that no successful earlier step stored."""

    def __init__(self, key):
        super().__init__("ref %r of a failed or missing step" % key)
        self.step = None


def dtype_of(st):
    return DTYPES[st["dtype"]] if "dtype" in st else None


def make_init(spec):
    """A TF v1 initializer object for an INIT of FORMAT.md."""
    if "constant" in spec:
        return v1.constant_initializer(spec["constant"])
    if "zeros" in spec:
        return v1.zeros_initializer()
    if "ones" in spec:
        return v1.ones_initializer()
    if "random_normal" in spec:
        p = spec["random_normal"]
        return v1.random_normal_initializer(mean=p["mean"], stddev=p["stddev"])
    if "random_uniform" in spec:
        p = spec["random_uniform"]
        return v1.random_uniform_initializer(minval=p["min"], maxval=p["max"])
    raise Dropped("unknown initializer %r" % (spec,))


def error_kind(exc):
    """Maps a TF exception to a KIND of FORMAT.md, or None when it is not one."""
    msg = str(exc)
    if "Duplicate node name" in msg or "already exists" in msg:
        return "already_exists"
    if "does not exist" in msg:
        return "not_found"
    if "Trying to share variable" in msg:
        if "shape" in msg:
            return "shape_mismatch"
        if "dtype" in msg:
            return "dtype_mismatch"
    if "is not a valid" in msg and "name" in msg:
        return "invalid_name"
    if isinstance(exc, (ValueError, TypeError, tf.errors.InvalidArgumentError)):
        return "invalid_argument"
    return None


def ref(refs, key):
    if key not in refs:
        raise MissingRef(key)
    return refs[key]


def reuse_arg(st):
    r = st.get("reuse")
    if r == "auto":
        return v1.AUTO_REUSE
    return r  # True, False or None


def reuse_str(r):
    if r is v1.AUTO_REUSE:
        return "auto"
    return "true" if r else "false"


class Runner:
    """Runs one case's steps; holds the graph and the refs shared by threads."""

    def __init__(self, graph):
        self.graph = graph
        self.refs = {}

    def run_thread(self, steps, out):
        """Runs `steps` with this thread's own scope stack; closes what stays open."""
        stack = []
        try:
            for st in steps:
                try:
                    self.step(st, out, stack)
                except MissingRef as exc:
                    if exc.step is None:
                        exc.step = st
                    raise
        finally:
            while stack:
                ctx = stack.pop()
                if ctx is not None:
                    ctx.__exit__(None, None, None)

    def store(self, st, value):
        if "as" in st:
            self.refs[st["as"]] = value

    def attempt(self, out, fn):
        """Calls fn(); on a mapped TF error prints it and returns (False, None)."""
        try:
            return True, fn()
        except Dropped:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            kind = error_kind(exc)
            if kind is None:
                raise Dropped("unmapped %s: %s" % (type(exc).__name__, exc))
            out.append("error: " + kind)
            return False, None

    def step(self, st, out, stack):
        do = st["do"]
        refs = self.refs
        if do == "variable_scope":
            kwargs = {}
            if "default_name" in st:
                kwargs["default_name"] = st["default_name"]
            if "reuse" in st:
                kwargs["reuse"] = reuse_arg(st)
            if "initializer" in st:
                kwargs["initializer"] = make_init(st["initializer"])
            if "dtype" in st:
                kwargs["dtype"] = dtype_of(st)
            if "auxiliary_name_scope" in st:
                kwargs["auxiliary_name_scope"] = st["auxiliary_name_scope"]
            target = ref(refs, st["scope"]) if "scope" in st else st.get("name")
            holder = {}

            def enter():
                ctx = v1.variable_scope(target, **kwargs)
                scope = ctx.__enter__()
                holder["ctx"] = ctx
                return scope

            ok, scope = self.attempt(out, enter)
            stack.append(holder.get("ctx") if ok else None)
            if ok:
                self.store(st, scope)
        elif do == "name_scope":
            target = ref(refs, st["scope"]) if "scope" in st else st.get("name")
            holder = {}

            def enter():
                ctx = v1.name_scope(target, default_name=st.get("default_name"))
                got = ctx.__enter__()
                holder["ctx"] = ctx
                return got

            ok, got = self.attempt(out, enter)
            stack.append(holder.get("ctx") if ok else None)
            if ok:
                self.store(st, "" if got is None else got)
        elif do == "end":
            if not stack:
                raise Dropped("end with no open scope")
            ctx = stack.pop()
            if ctx is not None:
                ctx.__exit__(None, None, None)
        elif do == "get_variable":
            kwargs = {}
            if "shape" in st:
                kwargs["shape"] = st["shape"]
            if "dtype" in st:
                kwargs["dtype"] = dtype_of(st)
            if "initializer" in st:
                kwargs["initializer"] = make_init(st["initializer"])
            if "trainable" in st:
                kwargs["trainable"] = st["trainable"]
            ok, var = self.attempt(out, lambda: v1.get_variable(st["name"], **kwargs))
            if ok:
                out.append(var.name)
                self.store(st, var)
        elif do == "variable":
            init = make_init(st.get("initializer", {"zeros": True}))
            dtype = dtype_of(st) or tf.float32
            shape = st["shape"]
            ok, var = self.attempt(
                out,
                lambda: v1.Variable(
                    lambda: init(shape, dtype=dtype),
                    dtype=dtype,
                    name=st.get("name"),
                    trainable=st.get("trainable", True),
                ),
            )
            if ok:
                out.append(var.name)
                self.store(st, var)
        elif do == "op":
            kind = st["type"]
            ins = [ref(refs, r) for r in st.get("inputs", [])]
            name = st.get("name")
            fns = {
                "const": lambda: tf.constant(1.0, name=name),
                "add": lambda: ins[0] + ins[1],
                "add_fn": lambda: tf.add(ins[0], ins[1], name=name),
                "mul": lambda: ins[0] * ins[1],
                "mul_fn": lambda: tf.multiply(ins[0], ins[1], name=name),
                "matmul": lambda: tf.matmul(ins[0], ins[1], name=name),
                "relu": lambda: tf.nn.relu(ins[0], name=name),
                "identity": lambda: tf.identity(ins[0], name=name),
            }
            ok, t = self.attempt(out, fns[kind])
            if ok:
                out.append(t.name)
                self.store(st, t)
        elif do == "reuse_variables":
            v1.get_variable_scope().reuse_variables()
        elif do == "get_variable_scope":
            self.store(st, v1.get_variable_scope())
        elif do == "scope_name":
            sc = ref(refs, st["scope"]) if "scope" in st else v1.get_variable_scope()
            out.append(sc.name)
        elif do == "original_name_scope":
            sc = ref(refs, st["scope"]) if "scope" in st else v1.get_variable_scope()
            out.append(sc.original_name_scope)
        elif do == "current_name_scope":
            out.append(v1.get_default_graph().get_name_scope())
        elif do == "reuse":
            sc = ref(refs, st["scope"]) if "scope" in st else v1.get_variable_scope()
            out.append(reuse_str(sc.reuse))
        elif do == "same":
            out.append("true" if ref(refs, st["a"]) is ref(refs, st["b"]) else "false")
        elif do == "value":
            var = ref(refs, st["of"])
            # Run the variables' own initializer ops: no op is added to the graph.
            # Twice, in two sessions: a value that differs is not deterministic,
            # which the step language rules out, so the case is dropped.
            # A session also refuses a graph with a node name TF's C++ side calls
            # invalid (a backslash); FORMAT.md defines no line for that.
            vals = []
            for _ in range(2):
                try:
                    with v1.Session(graph=self.graph) as sess:
                        sess.run([v.initializer for v in v1.global_variables()])
                        vals.append(sess.run(var))
                except tf.errors.OpError as exc:
                    raise Dropped("session failed: %s" % str(exc).replace("\n", " "))
            # Compared as printed: random_normal(0, 0) gives 0.0 or -0.0 at random.
            lines = ["[" + ",".join("%.6f" % float(x) for x in val.reshape(-1).tolist()) + "]"
                     for val in vals]
            if lines[0] != lines[1]:
                raise Dropped("value of a variable with a random initial value")
            out.append(lines[0])
        elif do == "global_variables":
            out.append(",".join(v.name for v in v1.global_variables()))
        elif do == "trainable_variables":
            out.append(",".join(v.name for v in v1.trainable_variables()))
        elif do == "thread":
            result = {}

            def body():
                try:
                    with self.graph.as_default():
                        self.run_thread(st["steps"], out)
                except BaseException as exc:  # pylint: disable=broad-except
                    result["exc"] = exc

            th = threading.Thread(target=body)
            th.start()
            th.join()
            if "exc" in result:
                raise result["exc"]
        else:
            raise Dropped("unknown step %r" % do)


def run_case(case):
    graph = tf.Graph()
    out = []
    with graph.as_default():
        Runner(graph).run_thread(case["steps"], out)
    return out


def repair(steps, bad):
    """Rewrites step `bad` (found by identity) so that it names no ref.

    A scope step enters a named scope instead (its `end` still matches), any
    other step is removed. Returns whether `bad` was found.
    """
    for i, st in enumerate(steps):
        if st is bad:
            if st["do"] in ("variable_scope", "name_scope"):
                st.pop("scope", None)
                st["name"] = "foo"
            else:
                del steps[i]
            return True
        if st["do"] == "thread" and repair(st["steps"], bad):
            return True
    return False


def run_repairing(case, fix):
    """Runs a case; with `fix`, repairs steps naming failed refs and runs it again."""
    for _ in range(50):
        try:
            return run_case(case)
        except MissingRef as exc:
            if not fix or exc.step is None or not repair(case["steps"], exc.step):
                raise
    raise Dropped("too many repairs")


def main():
    # `--repair` (used for generated cases): a step naming the ref of a failed
    # step is rewritten instead of dropping the whole case.
    fix = "--repair" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--repair"]
    cases = json.load(open(args[0]))["cases"]
    kept = []
    dropped = 0
    for case in cases:
        try:
            expect = run_repairing(case, fix)
        except Exception as exc:  # pylint: disable=broad-except
            dropped += 1
            print("dropped %s: %s" % (case.get("name"), exc), file=sys.stderr)
            continue
        new = {"name": case["name"]}
        if "why" in case:
            new["why"] = case["why"]
        new["steps"] = case["steps"]
        new["expect"] = expect
        kept.append(new)
    json.dump({"cases": kept}, sys.stdout, indent=1)
    print()
    print("%d cases kept, %d dropped" % (len(kept), dropped), file=sys.stderr)


if __name__ == "__main__":
    main()
