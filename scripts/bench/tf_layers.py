"""The two workloads of `cargo bench --bench layers` in TensorFlow 2.21 (tf.compat.v1 graph
mode, legacy tf_keras cells, session.run, 2 intra-op threads), for side-by-side ratios:

- one BasicLSTMCell step, batch 32, 128 inputs, 128 units (fetch h and c);
- a 20-step dynamic_rnn of that cell, forward plus tf.gradients of the sum of its outputs
  with respect to its variables.

Run: TF_USE_LEGACY_KERAS=1 $VENV/bin/python scripts/bench/tf_layers.py. Prints median and best ms.
"""
import os
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_v2_behavior()
v1 = tf.compat.v1
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
cfg = v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)


def timeit(fn, n=30, warm=5):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts)


def values(shape, k):
    idx = np.indices(shape).sum(axis=0)
    return np.sin(idx * k).astype(np.float32)


B, U, T = 32, 128, 20
g = tf.Graph()
with g.as_default():
    x = v1.placeholder(tf.float32, [B, U])
    c0 = v1.placeholder(tf.float32, [B, U])
    h0 = v1.placeholder(tf.float32, [B, U])
    cell = v1.nn.rnn_cell.BasicLSTMCell(U)
    h, state = cell(x, v1.nn.rnn_cell.LSTMStateTuple(c0, h0))
    with v1.Session(config=cfg) as s:
        s.run(v1.global_variables_initializer())
        feed = {x: values([B, U], 0.1), c0: values([B, U], 0.2), h0: values([B, U], 0.3)}
        med, best = timeit(lambda: s.run((h, state.c), feed), n=200)
        print(f"tf basic_lstm_step_b32_u128: median {med:.3f} ms, best {best:.3f} ms")

g = tf.Graph()
with g.as_default():
    seq = v1.placeholder(tf.float32, [B, T, U])
    out, _ = v1.nn.dynamic_rnn(v1.nn.rnn_cell.BasicLSTMCell(U), seq, dtype=tf.float32)
    loss = tf.reduce_sum(out)
    grads = tf.gradients(loss, v1.trainable_variables())
    with v1.Session(config=cfg) as s:
        s.run(v1.global_variables_initializer())
        feed = {seq: values([B, T, U], 0.05)}
        med, best = timeit(lambda: s.run((loss, grads), feed))
        print(f"tf dynamic_rnn_t20_b32_u128_fwd_bwd: median {med:.3f} ms, best {best:.3f} ms")
