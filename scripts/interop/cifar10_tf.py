"""TF's side of check-cifar10.sh: builds `inference()` of TensorFlow's
models/image/cifar10/cifar10.py (written out below as that file has it, on tf.compat.v1),
initialises it from a fixed seed, saves a V2 checkpoint, and writes a batch of images and
their logits as JSON. Usage: cifar10_tf.py OUT_DIR"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()
NUM_CLASSES = 10


def _variable_on_cpu(name, shape, initializer):
    return tf.compat.v1.get_variable(name, shape, initializer=initializer, dtype=tf.float32)


def _variable_with_weight_decay(name, shape, stddev, wd):
    var = _variable_on_cpu(name, shape, tf.compat.v1.truncated_normal_initializer(stddev=stddev, dtype=tf.float32))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        tf.compat.v1.add_to_collection('losses', weight_decay)
    return var


def inference(images):
    with tf.compat.v1.variable_scope('conv1') as scope:
        kernel = _variable_with_weight_decay('weights', shape=[5, 5, 3, 64], stddev=5e-2, wd=None)
        conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME')
        biases = _variable_on_cpu('biases', [64], tf.compat.v1.constant_initializer(0.0))
        conv1 = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding='SAME', name='pool1')
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name='norm1')
    with tf.compat.v1.variable_scope('conv2') as scope:
        kernel = _variable_with_weight_decay('weights', shape=[5, 5, 64, 64], stddev=5e-2, wd=None)
        conv = tf.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding='SAME')
        biases = _variable_on_cpu('biases', [64], tf.compat.v1.constant_initializer(0.1))
        conv2 = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    norm2 = tf.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name='norm2')
    pool2 = tf.nn.max_pool(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding='SAME', name='pool2')
    with tf.compat.v1.variable_scope('local3') as scope:
        reshape = tf.reshape(pool2, [images.get_shape().as_list()[0], -1])
        dim = reshape.get_shape()[1]
        weights = _variable_with_weight_decay('weights', shape=[dim, 384], stddev=0.04, wd=0.004)
        biases = _variable_on_cpu('biases', [384], tf.compat.v1.constant_initializer(0.1))
        local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
    with tf.compat.v1.variable_scope('local4') as scope:
        weights = _variable_with_weight_decay('weights', shape=[384, 192], stddev=0.04, wd=0.004)
        biases = _variable_on_cpu('biases', [192], tf.compat.v1.constant_initializer(0.1))
        local4 = tf.nn.relu(tf.matmul(local3, weights) + biases, name=scope.name)
    with tf.compat.v1.variable_scope('softmax_linear') as scope:
        weights = _variable_with_weight_decay('weights', [192, NUM_CLASSES], stddev=1 / 192.0, wd=None)
        biases = _variable_on_cpu('biases', [NUM_CLASSES], tf.compat.v1.constant_initializer(0.0))
        softmax_linear = tf.add(tf.matmul(local4, weights), biases, name=scope.name)
    return softmax_linear


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(3)
images = rng.standard_normal((2, 24, 24, 3)).astype(np.float32)
g = tf.Graph()
with g.as_default():
    tf.compat.v1.set_random_seed(5)
    x = tf.compat.v1.placeholder(tf.float32, [2, 24, 24, 3], name='images')
    logits = inference(x)
    with tf.compat.v1.Session() as s:
        s.run(tf.compat.v1.global_variables_initializer())
        # Biases are constants; make them differ per unit so a swapped name would show.
        for v in tf.compat.v1.global_variables():
            if v.op.name.endswith('biases'):
                s.run(v.assign(rng.standard_normal(v.shape.as_list()).astype(np.float32) * 0.1))
        values = s.run(logits, {x: images})
        tf.compat.v1.train.Saver().save(s, os.path.join(out, 'model.ckpt'))
        names = [v.op.name for v in tf.compat.v1.global_variables()]
json.dump({"shape": list(images.shape), "values": images.ravel().tolist()}, open(os.path.join(out, 'images.json'), 'w'))
json.dump({"variables": names, "logits": values.ravel().astype(float).tolist(), "logits_name": logits.name},
          open(os.path.join(out, 'expected.json'), 'w'))
