"""Helpers shared by the notebooks of the multiclass-digits course."""

import matplotlib as _mpl

from utils import _env  # noqa: F401  (must run before TensorFlow is imported)
from utils.data import as_image, load_data
from utils.diagrams import plot_network_diagram, plot_softmax_layer
from utils.heldout import display_confident_errors, plot_confusion_matrix, stratified_split
from utils.plots import (
    display_digit,
    display_errors,
    display_predictions_grid,
    display_random_digits,
    plot_loss_tf,
    plt_act_trio,
    widgvis,
)
from utils.softmax_widget import plt_softmax
from utils.stubs import not_answered_yet
from utils.tfsetup import setup_tensorflow

STYLE = "utils.course"  # use with plt.style.use(STYLE)

# The notebooks keep their figures open: closing one blanks its ipympl canvas in the
# browser. Re-running figure cells can then pass matplotlib's 20-figure warning,
# which would land on stderr. (Not a style parameter, so it is set here.)
_mpl.rcParams["figure.max_open_warning"] = 0

__all__ = [
    "STYLE",
    "as_image",
    "display_confident_errors",
    "display_digit",
    "display_errors",
    "display_predictions_grid",
    "display_random_digits",
    "load_data",
    "not_answered_yet",
    "plot_confusion_matrix",
    "plot_loss_tf",
    "plot_network_diagram",
    "plot_softmax_layer",
    "plt_act_trio",
    "plt_softmax",
    "setup_tensorflow",
    "stratified_split",
    "widgvis",
]
