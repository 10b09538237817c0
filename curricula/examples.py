"""The unit of training data: one question with its reference answer.

An :class:`Example` is what every source yields, what an :class:`~sparft.curricula.arms.ArmSet`
refers to by id, and what a learner trains on. It is deliberately small and
immutable so that it can be hashed, cached and shipped between processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Message = Mapping[str, str]


@dataclass(frozen=True)
class Example:
    """One training or evaluation question.

    Attributes:
        id: stable identifier, unique within its source (e.g. ``"gsm8k/train/17"``).
        prompt: chat messages (``{"role": ..., "content": ...}``) given to the policy.
        answer: the reference final answer, as the task's checker expects it.
        topic: a coarse topic label (``"addition"``, ``"gsm8k"``); empty when unknown.
        difficulty: a difficulty label the source provides, or ``None``.
        meta: anything else the source knows (worked solution, level, template).
    """

    id: str
    prompt: tuple[Message, ...]
    answer: str
    topic: str = ""
    difficulty: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The text of the last user message: what embeddings and tables show."""
        for message in reversed(self.prompt):
            if message.get("role") == "user":
                return message["content"]
        return self.prompt[-1]["content"] if self.prompt else ""
