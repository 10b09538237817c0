"""sparft: self-paced reinforcement fine-tuning of small language models.

Subpackages (one per top-level folder of the repository):

- ``sparft.bandits``     bandit algorithms and their registry (numpy only)
- ``sparft.curricula``   data sources, difficulty, clustering, ``ArmSet``, teachers, signals
- ``sparft.envs``        ``CurriculumEnv`` (Gymnasium) and the ``SimulatedLearner``
- ``sparft.trainers``    real-model learners: loading, generation, GRPO, TRL adapter
- ``sparft.experiments`` configs, run / bench / sweep, logging, statistics, plots, CLI

and two modules every folder may use: ``sparft.fileio`` (atomic, fsynced writes that
honour the umask; folders published by one rename; the one JSON encoder) and
``sparft.registry`` (the one registry shape of every kind of plugin).
"""

__version__ = "0.1.0"
