"""The course's colours: one list, read from the colour cycle of ``course.mplstyle``.

Figures colour class k with ``COLORS[k]`` (as Matplotlib's default cycle does under the
course style), so the same class has the same colour in every lab.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

_STYLE_FILE = Path(__file__).resolve().parent / "course.mplstyle"
COLORS: tuple[str, ...] = tuple(
    mpl.rc_params_from_file(str(_STYLE_FILE), use_default_template=False)["axes.prop_cycle"].by_key()["color"]
)
"""'#0096ff' blue, '#ff9300' orange, '#c00000' dark red, '#7030a0' purple, '#00b050' green,
'#ff40ff' magenta, '#0d5bdd' dark blue, '#ffbf00' gold."""
BLUE, ORANGE, DARK_RED, PURPLE, GREEN, MAGENTA, DARK_BLUE, GOLD = COLORS
GREY = "0.55"  # targets and reference curves
LIGHT_GREY = "0.8"  # zero lines
DARK_GREY = "0.3"  # unlabelled points, secondary lines
ON_SHADE = "#cdeccd"  # light green, unlike any class colour: where a ReLU unit is on
