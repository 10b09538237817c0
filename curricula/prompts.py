"""The chat prompt every built-in source gives the policy, and the bare question behind it.

The real learner samples ~16 tokens on a CPU, so the prompt asks for the final
number only. Measured with SmolLM2-135M-Instruct, greedy, on 24 arith additions
(1-3 digits): the question as the user turn followed by "Answer with just the
number." scored 33%, the same instruction as a system message 8-12%, the bare
question 17%. Hence the instruction goes after the question in the user turn.

Embeddings, tables and plots want the question without the instruction:
:func:`question_text` gives it (sources store it as ``meta["question"]``).
"""

from __future__ import annotations

from sparft.curricula.examples import Example, Message

ANSWER_INSTRUCTION = "Answer with just the number."


def answer_prompt(question: str, instruction: str = ANSWER_INSTRUCTION) -> tuple[Message, ...]:
    """One user turn: the question, then the instruction to answer with a number only."""
    question = question.strip()
    content = f"{question} {instruction}" if instruction else question
    return ({"role": "user", "content": content},)


def question_text(example: Example) -> str:
    """The bare question (no answer instruction): what is embedded and shown."""
    return str(example.meta.get("question", example.question))
