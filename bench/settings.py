"""Benchmark settings: the production settings plus reference views measured in the same run."""

from mvpvalidator.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
