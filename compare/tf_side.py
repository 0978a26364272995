"""TensorFlow's side of compare/: the same workloads as compare/src/main.rs, timed with session.run.

Run with the venv of scripts/interop/venv.sh (tensorflow-cpu 2.21):
    $VENV/bin/python compare/tf_side.py [--threads 2] [--budget 2] [--summary FILE] [--check OUT.bin]
or let the compare crate drive it (`varscope-compare --tf $VENV/bin/python`, which is what
scripts/perf/compare.sh runs): with --serve it prints `diff <max abs diff>` and then, for each
workload key read from stdin, runs that workload once and prints its wall time in seconds, so
TF's calls take their turn in the compare crate's round-robin rounds.

The data are the compare crate's: benches/workload/mod.rs's splitmix64 `Rng` and
`ImageFilter::new(4)`, regenerated here bit for bit, so `--check` (the raw f32 output that
`varscope-compare --dump` wrote) prints the max abs difference between TF's forward and
varscope's. tf.compat.v1 graph mode, intra_op_parallelism_threads = --threads, the 8x32x32x32
input fed on every call (a placeholder, as a user feeds a batch). Workloads run round-robin, one
call of each per round, so they all see the same machine load. `--summary` writes one
tab-separated line per workload: key, median, best, 25th and 75th percentile, in seconds.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BATCH, SIDE, CHANNELS, KERNEL = 8, 32, 32, 5
MASK = (1 << 64) - 1


class Rng:
    """benches/workload/mod.rs's splitmix64: numbers in [-1, 1) as f32."""

    def __init__(self, seed):
        self.state = seed

    def take(self, n):
        # state advances by the golden-ratio constant per number; vectorised with wrapping u64.
        with np.errstate(over="ignore"):
            idx = np.arange(1, n + 1, dtype=np.uint64)
            z = np.uint64(self.state) + idx * np.uint64(0x9E3779B97F4A7C15)
            self.state = (self.state + n * 0x9E3779B97F4A7C15) & MASK
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        v = (z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
        return v * np.float32(2.0) - np.float32(1.0)


def image_filter_data(seed):
    """ImageFilter::new(seed): x, w1, b1, w2, b2 drawn in that order."""
    rng = Rng(seed)
    wscale = np.sqrt(np.float32(6.0) / (np.float32(2.0) * np.float32(KERNEL * KERNEL * CHANNELS)), dtype=np.float32)
    x = rng.take(BATCH * SIDE * SIDE * CHANNELS).reshape(BATCH, SIDE, SIDE, CHANNELS)
    w1 = (rng.take(KERNEL * KERNEL * CHANNELS * CHANNELS) * wscale).reshape(KERNEL, KERNEL, CHANNELS, CHANNELS)
    b1 = rng.take(CHANNELS) * np.float32(0.1)
    w2 = (rng.take(KERNEL * KERNEL * CHANNELS * CHANNELS) * wscale).reshape(KERNEL, KERNEL, CHANNELS, CHANNELS)
    b2 = rng.take(CHANNELS) * np.float32(0.1)
    return x, w1, b1, w2, b2


def time_set(budget, fns):
    """Median / best / quartiles in seconds of each fn, run round-robin for about budget * len(fns) s."""
    for f in fns:
        f()
    samples = [[] for _ in fns]
    start = time.perf_counter()
    total = budget * len(fns)
    while len(samples[0]) < 5 or (time.perf_counter() - start < total and len(samples[0]) < 2000):
        for f, s in zip(fns, samples):
            t = time.perf_counter()
            f()
            s.append(time.perf_counter() - t)
    out = []
    for s in samples:
        s.sort()
        out.append((statistics.median(s), s[0], s[len(s) // 4], s[len(s) * 3 // 4]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--summary")
    ap.add_argument("--check")
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    if a.serve and not a.check:
        sys.exit("--serve needs --check OUT.bin (varscope's forward output)")
    tf.compat.v1.disable_eager_execution()
    cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=a.threads, inter_op_parallelism_threads=1)
    xv, w1v, b1v, w2v, b2v = image_filter_data(4)
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [BATCH, SIDE, SIDE, CHANNELS])

        def conv_relu(inp, w0, b0):
            w = tf.compat.v1.get_variable("weights", initializer=tf.constant(w0))
            b = tf.compat.v1.get_variable("biases", initializer=tf.constant(b0))
            return tf.nn.relu(tf.nn.conv2d(inp, w, strides=[1, 1, 1, 1], padding="SAME") + b)

        with tf.compat.v1.variable_scope("image_filters"):
            with tf.compat.v1.variable_scope("conv1"):
                r1 = conv_relu(x, w1v, b1v)
            with tf.compat.v1.variable_scope("conv2"):
                y = conv_relu(r1, w2v, b2v)
        # The compare crate's backward: gradients of sum(output) w.r.t. the four variables.
        grads = tf.gradients(tf.reduce_sum(y), tf.compat.v1.trainable_variables())
        # One conv layer alone, and its input + filter gradients for dy = ones.
        wc = tf.constant(w1v)
        conv = tf.nn.conv2d(x, wc, strides=[1, 1, 1, 1], padding="SAME")
        conv_grads = tf.gradients(conv, [x, wc], grad_ys=tf.ones_like(conv))
        ma = tf.compat.v1.placeholder(tf.float32, [None, None])
        mb = tf.compat.v1.placeholder(tf.float32, [None, None])
        mm = tf.matmul(ma, mb)
        with tf.compat.v1.Session(config=cfg) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            feed = {x: xv}
            out = s.run(y, feed)
            if a.check:
                ours = np.fromfile(a.check, dtype="<f4")
                if ours.size != out.size:
                    sys.exit(f"{a.check} holds {ours.size} floats, TF's output has {out.size}")
                diff = float(np.max(np.abs(ours - out.reshape(-1))))
                if not diff < 1e-3:
                    sys.exit(f"varscope and TF disagree on my_image_filter's output (max abs diff {diff})")
                if a.serve:
                    print(f"diff {diff:e}", flush=True)
                else:
                    print(f"max abs difference, varscope fused forward vs TF: {diff:.1e}")
            mats = {}
            for n in (512, 1024):
                rng = np.random.default_rng(n)
                mats[n] = {
                    ma: rng.standard_normal((n, n), dtype=np.float32),
                    mb: rng.standard_normal((n, n), dtype=np.float32),
                }
            work = {
                "filter_fwd": lambda: s.run(y, feed),
                "filter_fb": lambda: s.run(grads, feed),
                "conv_fwd": lambda: s.run(conv, feed),
                "conv_bwd": lambda: s.run(conv_grads, feed),
                "matmul512": lambda: s.run(mm, mats[512]),
                "matmul1024": lambda: s.run(mm, mats[1024]),
            }
            if a.serve:
                for f in work.values():
                    f()  # warm-up
                for line in sys.stdin:
                    f = work.get(line.strip())
                    if f is None:
                        sys.exit(f"unknown workload {line.strip()!r}; known: {', '.join(work)}")
                    t = time.perf_counter()
                    f()
                    print(f"{time.perf_counter() - t:e}", flush=True)
                return
            rows = []
            t = time_set(
                a.budget,
                [
                    lambda: s.run(y, feed),
                    lambda: s.run(grads, feed),
                    lambda: s.run(conv, feed),
                    lambda: s.run(conv_grads, feed),
                ],
            )
            rows += list(zip(["filter_fwd", "filter_fb", "conv_fwd", "conv_bwd"], t))
            for n in (512, 1024):
                rows.append((f"matmul{n}", time_set(a.budget, [work[f"matmul{n}"]])[0]))
    print(f"tensorflow {tf.__version__}, intra_op threads {a.threads}")
    for k, (med, best, q1, q3) in rows:
        print(f"{k:<12} median {med * 1e3:8.3f} ms  best {best * 1e3:8.3f} ms  IQR {q1 * 1e3:.3f}-{q3 * 1e3:.3f} ms")
    if a.summary:
        with open(a.summary, "w") as f:
            for k, (med, best, q1, q3) in rows:
                f.write(f"{k}\t{med:e}\t{best:e}\t{q1:e}\t{q3:e}\n")


if __name__ == "__main__":
    main()
