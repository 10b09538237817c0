"""Experiments: typed configs, runs, benchmarks with statistics, Optuna sweeps, logging, plots.

One config file describes an experiment (:mod:`.config`); ``sparft run`` makes
one run folder (:mod:`.runner`), ``sparft bench`` compares strategies over
seeds (:mod:`.bench`, :mod:`.stats`, :mod:`.plots`), ``sparft sweep`` tunes a
config with Optuna (:mod:`.sweep`); metrics go to crash-safe JSONL files
(:mod:`.records`) and, optionally, to W&B (:mod:`.tracking`). :mod:`.resolve`
checks a config against the owners of its names (pure), :mod:`.wiring` is the one
place that builds the other folders' objects from it, and each ``learner.kind`` is a
plugin (:mod:`.learners`).

Importing this package is light: the modules import numpy, PyYAML and the
standard library at most; the rest (optuna, wandb, matplotlib, torch) is
imported inside the functions that need it.
"""
