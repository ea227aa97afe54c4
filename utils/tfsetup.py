"""Reproducible, quiet TensorFlow for the notebooks of the series."""

from __future__ import annotations

import logging
import warnings

from utils import _env  # noqa: F401  (sets the TF environment first)

DEFAULT_SEED = 1234


def setup_tensorflow(seed: int = DEFAULT_SEED):
    """Import TensorFlow quietly and make training reproducible.

    Seeds Python, NumPy and TensorFlow with ``seed`` and turns on op determinism,
    which is what Keras 3 needs for identical losses from run to run
    (``tf.random.set_seed`` alone is not enough). Returns the ``tensorflow`` module.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    import tensorflow as tf

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    tf.autograph.set_verbosity(0)
    # Keras warns (UserWarning, on stderr) about e.g. input_shape= in layers; those
    # are the student's choices and are caught by the public tests instead.
    warnings.filterwarnings("ignore", module=r"keras(\..*)?")
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return tf
