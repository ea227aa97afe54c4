"""Shared pytest setup: a headless matplotlib backend and the repository root."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

import utils  # noqa: F401  (sets TensorFlow's quiet environment before any test imports TF)

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
