"""The registered curriculum strategies, one small module each.

Each module registers its strategies with ``@register("name")``
(:data:`sparft.curricula.teachers.STRATEGIES`); the registry imports every module of
this package on its first lookup, so a new strategy is one new ``_name.py`` file here
and nothing else to edit (re-exporting its class below is optional):

===================  ====================================================  ===========
name                 method (source in the module's docstring)             action
===================  ====================================================  ===========
``uniform``          standard GRPO on all data ("R1")                      examples
``random_subset``    a random subset of SPaRFT's size, uniformly           examples
``sparft``           Gaussian Thompson sampling on -solve rate (SPaRFT)    arm
``sparft_lp``        ... on -solve rate + |learning progress| (SPaCe)      arm
``sparft_target``    Beta-Bernoulli Thompson toward solve rate 0.5         arm
``dump``             UCB on windowed mean |advantage|, softmax (DUMP)      arms
``sec``              TD(0) mean |advantage|, Boltzmann (SEC)               arms
``adarft``           examples nearest an adaptive target difficulty        examples
``learnability``     arms in proportion to p(1 - p)                        arms
``tscl``             slope of each arm's learning curve (Matiisen et al.)  arm
``graves_exp3s``     Exp3.S on quantile-rescaled learning progress         arm
``e2h``              fixed easy-to-hard schedules (E2H Reasoner)           arms
``dynamic_filter``   DAPO dynamic sampling around any teacher              (inner's)
``mopps``            Beta posterior per prompt, Thompson toward p = 0.5    examples
``greso``            skip prompts whose recent groups were all equal       examples
``speed_rl``         screen candidates, train on 0 < pass rate < 1         examples
``vcrl``             normalised group variance + replay memory             examples
``balanced_filter``  over-sample, pass rates in [0.25, 0.75] first         examples
``cures``            Beta-Binomial, q ~ exp(sqrt(p(1-p)) / tau)            examples
``pcl``              online value model, predictions nearest 0.5           examples
``cluster_beta``     per-prompt Beta shrunk toward its cluster (EB prior)  examples
``sparft_dynamic``   SPaRFT with re-clustering during training             examples
===================  ====================================================  ===========

The strategies from ``mopps`` on choose individual prompts (the 2025-26
literature); their shared plumbing is :mod:`._per_prompt`. Those that screen or
over-sample (``speed_rl``, ``balanced_filter``, ``greso`` with ``oversample > 1``)
say in their docstrings how their extra rollouts are counted.

``bandit_signal`` (``make({"bandit": ..., "signal": ...})``) composes any
registered bandit with any registered signal; the ``sparft*``, ``sec`` and
``graves_exp3s`` strategies are presets of it.
"""

from sparft.curricula.strategies._adarft import AdaRFT, AdaRFTParams
from sparft.curricula.strategies._balanced_filter import BalancedFilter, BalancedFilterParams
from sparft.curricula.strategies._cluster_beta import ClusterBeta, ClusterBetaParams
from sparft.curricula.strategies._composed import BanditSignal, BanditSignalParams
from sparft.curricula.strategies._cures import CurES, CurESParams
from sparft.curricula.strategies._dump import DUMP, DUMPParams
from sparft.curricula.strategies._dynamic_filter import DynamicFilter, DynamicFilterParams
from sparft.curricula.strategies._e2h import E2H, E2HParams, schedule_probabilities
from sparft.curricula.strategies._graves import GravesExp3S, GravesParams
from sparft.curricula.strategies._greso import GRESO, GRESOParams
from sparft.curricula.strategies._learnability import Learnability, LearnabilityParams
from sparft.curricula.strategies._mopps import MoPPS, MoPPSParams
from sparft.curricula.strategies._pcl import PCL, PCLParams
from sparft.curricula.strategies._sec import SEC, SECParams
from sparft.curricula.strategies._sparft import (
    Sparft,
    SparftLP,
    SparftLPParams,
    SparftParams,
    SparftTarget,
    SparftTargetParams,
)
from sparft.curricula.strategies._sparft_dynamic import SparftDynamic, SparftDynamicParams
from sparft.curricula.strategies._speed_rl import SpeedRL, SpeedRLParams
from sparft.curricula.strategies._tscl import TSCL, TSCLParams
from sparft.curricula.strategies._uniform import (
    RandomSubset,
    RandomSubsetParams,
    Uniform,
    UniformParams,
)
from sparft.curricula.strategies._vcrl import VCRL, VCRLParams

__all__ = [
    "DUMP",
    "E2H",
    "GRESO",
    "PCL",
    "SEC",
    "TSCL",
    "VCRL",
    "AdaRFT",
    "AdaRFTParams",
    "BalancedFilter",
    "BalancedFilterParams",
    "BanditSignal",
    "BanditSignalParams",
    "ClusterBeta",
    "ClusterBetaParams",
    "CurES",
    "CurESParams",
    "DUMPParams",
    "DynamicFilter",
    "DynamicFilterParams",
    "E2HParams",
    "GRESOParams",
    "GravesExp3S",
    "GravesParams",
    "Learnability",
    "LearnabilityParams",
    "MoPPS",
    "MoPPSParams",
    "PCLParams",
    "RandomSubset",
    "RandomSubsetParams",
    "SECParams",
    "Sparft",
    "SparftLP",
    "SparftLPParams",
    "SparftParams",
    "SparftDynamic",
    "SparftDynamicParams",
    "SparftTarget",
    "SparftTargetParams",
    "SpeedRL",
    "SpeedRLParams",
    "TSCLParams",
    "Uniform",
    "UniformParams",
    "VCRLParams",
    "schedule_probabilities",
]
