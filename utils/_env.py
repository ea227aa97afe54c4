"""Keep TensorFlow quiet on stderr; imported before anything loads TensorFlow."""

import os

# Both are needed with TF 2.21: the first hides C++ log lines, the second the
# oneDNN notice that TF prints on stderr even when the first is set.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
