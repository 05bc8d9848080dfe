"""Finished runs: the checksummed run cache (:mod:`.cache`), grids of configs x seeds on any
executor (:mod:`.grid`), and scores of finished runs from their stored weights (:mod:`.scores`)."""
from .cache import RUN_FORMAT, RunCache, run_key
from .grid import DataRef, run_grid
from .scores import Scorer, load_model, load_scores

__all__ = ["RUN_FORMAT", "RunCache", "run_key", "DataRef", "run_grid", "Scorer", "load_model", "load_scores"]
