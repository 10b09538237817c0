"""Data, difficulty, clustering, ``ArmSet``; curriculum strategies (teachers) and signals.

Teachers: ``make(name, arms=ArmSet, seed=...)``, ``available()``, ``register``,
``Teacher`` (see :mod:`sparft.curricula.teachers`; the strategies themselves are
in :mod:`sparft.curricula.strategies`, loaded on first use).
"""

from sparft.curricula.teachers import Teacher, available, make, register

__all__ = ["Teacher", "available", "make", "register"]
