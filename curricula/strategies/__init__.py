"""The registered curriculum strategies, one small module each.

Importing this package registers them with :mod:`sparft.curricula.teachers`
(``make`` and ``available`` do it on first use):

==================  ====================================================  ===========
name                method (source in the module's docstring)             action
==================  ====================================================  ===========
``uniform``         standard GRPO on all data ("R1")                      examples
``random_subset``   a random subset of SPaRFT's size, uniformly           examples
``sparft``          Gaussian Thompson sampling on -solve rate (SPaRFT)    arm
``sparft_lp``       ... on -solve rate + |learning progress| (SPaCe)      arm
``sparft_target``   Beta-Bernoulli Thompson toward solve rate 0.5         arm
``dump``            UCB on windowed mean |advantage|, softmax (DUMP)      arms
``sec``             TD(0) mean |advantage|, Boltzmann (SEC)               arms
``adarft``          examples nearest an adaptive target difficulty        examples
``learnability``    arms in proportion to p(1 - p)                        arms
``tscl``            slope of each arm's learning curve (Matiisen et al.)  arm
``graves_exp3s``    Exp3.S on quantile-rescaled learning progress         arm
``e2h``             fixed easy-to-hard schedules (E2H Reasoner)           arms
``dynamic_filter``  DAPO dynamic sampling around any teacher              (inner's)
==================  ====================================================  ===========

``bandit_signal`` (``make({"bandit": ..., "signal": ...})``) composes any
registered bandit with any registered signal; the ``sparft*``, ``sec`` and
``graves_exp3s`` strategies are presets of it.
"""

from sparft.curricula.strategies import (  # noqa: F401  (importing registers)
    _adarft,
    _composed,
    _dump,
    _dynamic_filter,
    _e2h,
    _graves,
    _learnability,
    _sec,
    _sparft,
    _tscl,
    _uniform,
)
from sparft.curricula.strategies._adarft import AdaRFT, AdaRFTParams
from sparft.curricula.strategies._composed import BanditSignal, BanditSignalParams
from sparft.curricula.strategies._dump import DUMP, DUMPParams
from sparft.curricula.strategies._dynamic_filter import DynamicFilter, DynamicFilterParams
from sparft.curricula.strategies._e2h import E2H, E2HParams, schedule_probabilities
from sparft.curricula.strategies._graves import GravesExp3S, GravesParams
from sparft.curricula.strategies._learnability import Learnability, LearnabilityParams
from sparft.curricula.strategies._sec import SEC, SECParams
from sparft.curricula.strategies._sparft import (
    Sparft,
    SparftLP,
    SparftLPParams,
    SparftParams,
    SparftTarget,
    SparftTargetParams,
)
from sparft.curricula.strategies._tscl import TSCL, TSCLParams
from sparft.curricula.strategies._uniform import (
    RandomSubset,
    RandomSubsetParams,
    Uniform,
    UniformParams,
)

__all__ = [
    "DUMP",
    "E2H",
    "SEC",
    "TSCL",
    "AdaRFT",
    "AdaRFTParams",
    "BanditSignal",
    "BanditSignalParams",
    "DUMPParams",
    "DynamicFilter",
    "DynamicFilterParams",
    "E2HParams",
    "GravesExp3S",
    "GravesParams",
    "Learnability",
    "LearnabilityParams",
    "RandomSubset",
    "RandomSubsetParams",
    "SECParams",
    "Sparft",
    "SparftLP",
    "SparftLPParams",
    "SparftParams",
    "SparftTarget",
    "SparftTargetParams",
    "TSCLParams",
    "Uniform",
    "UniformParams",
    "schedule_probabilities",
]
