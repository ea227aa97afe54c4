"""Reproducible, quiet TensorFlow for the notebooks of the series."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings

from utils import _env  # noqa: F401  (sets the TF environment first)

DEFAULT_SEED = 1234


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration of the block.

    TF 2.21 logs "Could not find cuda drivers" from C++ (absl, before its logging is
    initialised) while it is imported, whatever TF_CPP_MIN_LOG_LEVEL says; only a
    descriptor-level redirect keeps that line out of a notebook's stderr.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def setup_tensorflow(seed: int = DEFAULT_SEED):
    """Import TensorFlow quietly and make training reproducible.

    Seeds Python, NumPy and TensorFlow with ``seed`` and turns on op determinism,
    which is what Keras 3 needs for identical losses from run to run
    (``tf.random.set_seed`` alone is not enough). Returns the ``tensorflow`` module.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if "tensorflow" in sys.modules:
        import tensorflow as tf
    else:
        with _native_stderr_silenced():
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
