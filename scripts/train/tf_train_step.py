"""One training step in TensorFlow 2.21 (tf.compat.v1 graph mode, session.run, 2 intra-op
threads), for side-by-side ratios with `cargo bench --bench session`:

- my_image_filter (batch 8, 8x32x32x32 input, two 5x5x32x32 SAME conv + bias + relu), loss the
  mean, plain gradient descent on its 4 variables;
- the Siamese MLP of examples/siamese (64 pairs, towers 64 -> 64 relu -> 16 sharing variables,
  the contrastive loss), plain gradient descent;
- a 40-op tanh chain on [4] (per-op cost of session.run).

Run: scripts/train/tf_train_step.sh (makes or finds the pinned venv). Prints median and best ms.
"""
import statistics
import sys
import time

import numpy as np
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)


def timeit(fn, n=30, warm=5):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts), max(ts)


def conv_relu(x):
    w = tf.compat.v1.get_variable("weights", [5, 5, 32, 32], initializer=tf.compat.v1.random_normal_initializer(stddev=0.1))
    b = tf.compat.v1.get_variable("biases", [32], initializer=tf.compat.v1.constant_initializer(0.0))
    return tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME") + b)


def dense(x, units):
    w = tf.compat.v1.get_variable("weights", [x.shape[1], units], initializer=tf.compat.v1.glorot_uniform_initializer())
    b = tf.compat.v1.get_variable("biases", [units], initializer=tf.compat.v1.zeros_initializer())
    return tf.matmul(x, w) + b


def tower(x):
    with tf.compat.v1.variable_scope("hidden"):
        h = tf.nn.relu(dense(x, 64))
    with tf.compat.v1.variable_scope("embedding"):
        return dense(h, 16)


rows = []
rng = np.random.default_rng(0)
g = tf.Graph()
with g.as_default():
    img = rng.standard_normal((8, 32, 32, 32)).astype(np.float32)
    x = tf.compat.v1.placeholder(tf.float32, [8, 32, 32, 32])
    with tf.compat.v1.variable_scope("image_filters"):
        with tf.compat.v1.variable_scope("conv1"):
            r = conv_relu(x)
        with tf.compat.v1.variable_scope("conv2"):
            y = conv_relu(r)
    loss = tf.reduce_mean(y)
    train = tf.compat.v1.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.compat.v1.Session(config=cfg) as s:
        s.run(tf.compat.v1.global_variables_initializer())
        rows.append(("my_image_filter b8 train step (GD)", *timeit(lambda: s.run([loss, train], {x: img}))))

g = tf.Graph()
with g.as_default():
    left = tf.compat.v1.placeholder(tf.float32, [64, 64])
    right = tf.compat.v1.placeholder(tf.float32, [64, 64])
    same = tf.compat.v1.placeholder(tf.float32, [64])
    with tf.compat.v1.variable_scope("siamese") as scope:
        a = tower(left)
        scope.reuse_variables()
        b = tower(right)
    d2 = tf.reduce_sum(tf.square(a - b), 1)
    d = tf.sqrt(d2 + 1e-6)
    loss = tf.reduce_mean(same * d2 + (1.0 - same) * tf.square(tf.nn.relu(1.0 - d)))
    train = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    feed = {left: rng.random((64, 64), np.float32), right: rng.random((64, 64), np.float32),
            same: (np.arange(64) % 2 == 0).astype(np.float32)}
    with tf.compat.v1.Session(config=cfg) as s:
        s.run(tf.compat.v1.global_variables_initializer())
        rows.append(("siamese MLP 64 pairs train step (GD)", *timeit(lambda: s.run([loss, train], feed), n=200, warm=20)))

g = tf.Graph()
with g.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [4])
    h = x
    for _ in range(40):
        h = tf.tanh(h)
    with tf.compat.v1.Session(config=cfg) as s:
        v = np.ones(4, np.float32)
        med, best, worst = timeit(lambda: s.run(h, {x: v}), n=2000, warm=200)
        rows.append(("40-op tanh chain on [4], per op, us", med * 1e3 / 40, best * 1e3 / 40, worst * 1e3 / 40))

print(f"tensorflow {tf.__version__}, intra_op threads {threads}")
for name, med, best, worst in rows:
    print(f"{name:<42} median {med:9.3f}  best {best:9.3f}  worst {worst:9.3f}")
