"""Answer checkers: real GSM8K references and adversarial completions."""

import json
import os
from pathlib import Path

import pytest

from sparft.curricula.rewards import (
    available_rewards,
    extract_final_number,
    format_reward,
    get_reward,
    math_reward,
    normalize_number,
    numeric_reward,
)

# The shared copy sits beside the repository (../shared/data/gsm8k); SPARFT_GSM8K overrides.
GSM8K = Path(
    os.environ.get("SPARFT_GSM8K", Path(__file__).resolve().parents[3] / "shared/data/gsm8k")
)


@pytest.fixture(scope="module")
def gsm8k_rows():
    path = GSM8K / "test.jsonl"
    if not path.is_file():
        pytest.skip(f"GSM8K copy not found at {path}")
    with path.open() as f:
        return [json.loads(line) for line in f]


def test_every_gsm8k_reference_solution_scores_its_own_answer(gsm8k_rows):
    for row in gsm8k_rows:
        final = row["answer"].rsplit("####", 1)[1].strip()
        assert numeric_reward(row["answer"], final) == 1.0, row["answer"]
        # The bare final number, as a model following the prompt would answer.
        assert numeric_reward(final, row["answer"]) == 1.0, final


def test_gsm8k_reference_rejects_a_neighbouring_answer(gsm8k_rows):
    for row in gsm8k_rows[:300]:
        final = extract_final_number(row["answer"])
        wrong = str(int(float(final)) + 1)
        assert numeric_reward(wrong, row["answer"]) == 0.0


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("72", "72"),
        ("The answer is 72.", "72"),
        ("#### 72", "72"),
        ("She pays $1,234.50 in total.", "1234.5"),
        ("It is 18 dollars", "18"),
        ("10 apples", "10"),
        ("50%", "50"),
        ("-5", "-5"),
        ("5-3 = 2", "2"),  # a hyphen between numbers is not a minus sign
        ("x = -3.0", "-3"),
        ("I think 71, no wait, 72", "72"),
        ("The answer is 18. Check: 18 - 3 = 15", "18"),  # an explicit answer beats the last number
        ("\\boxed{42}", "42"),
        ("\\boxed{1,000} dollars, not 7", "1000"),
        ("Total: 1,000,000", "1000000"),
        ("0.50", "0.5"),
        ("007", "7"),
        ("−4", "-4"),  # unicode minus
    ],
)
def test_extract_final_number(completion, expected):
    assert extract_final_number(completion) == expected


@pytest.mark.parametrize("completion", ["", "   ", "no number here", "I don't know", None, []])
def test_no_number_gives_none_and_zero_reward(completion):
    assert extract_final_number(completion) is None
    assert numeric_reward(completion, "5") == 0.0


@pytest.mark.parametrize(
    "completion, answer, reward",
    [
        ("72", "72", 1.0),
        ("72.0", "72", 1.0),
        ("$72", "72", 1.0),
        ("72 clips", "#### 72", 1.0),
        ("1,200", "1200", 1.0),
        ("1200", "1,200", 1.0),
        ("71", "72", 0.0),
        ("720", "72", 0.0),
        ("7.2", "72", 0.0),
        ("-72", "72", 0.0),
        ("0.333333", "0.333333", 1.0),
        ("72", "", 0.0),  # an unusable reference never rewards
        ("The answer is 5 but really 6", "5", 1.0),
        ("Final answer: 9", "9", 1.0),
        ("The answer is: 10", "10", 1.0),
        # "answer" inside another word or without "is"/":" marks nothing: the last number wins.
        ("She answered 3 questions, so the total is 10", "10", 1.0),
        ("To answer this, add 3 and 4 to get 7", "7", 1.0),
    ],
)
def test_numeric_reward(completion, answer, reward):
    assert numeric_reward(completion, answer) == reward


def test_chat_message_completions_are_read():
    assert numeric_reward([{"role": "assistant", "content": "It is 9."}], "9") == 1.0
    assert numeric_reward({"role": "assistant", "content": "8"}, "9") == 0.0


def test_normalize_number():
    assert normalize_number("$1,200.50") == "1200.5"
    assert normalize_number("abc") is None


@pytest.mark.parametrize(
    "completion, reward",
    [
        ("42", 1.0),
        ("42.", 1.0),
        ("$42", 1.0),
        ("42 apples", 1.0),
        ("#### 42", 1.0),
        ("The answer is 42", 1.0),
        ("\\boxed{42}", 1.0),
        ("I think we add them", 0.0),
        ("She answered 3 questions so far and", 0.0),
        ("Let me compute 4 + 2 step by step and", 0.0),
        ("", 0.0),
    ],
)
def test_format_reward(completion, reward):
    assert format_reward(completion) == reward


@pytest.mark.parametrize(
    "completion, answer, reward",
    [
        ("$\\frac{1}{2}$", "0.5", 1.0),
        ("The answer is $0.5$", "\\frac{1}{2}", 1.0),
        ("$\\boxed{\\sqrt{2}}$", "\\sqrt{2}", 1.0),
        ("$\\boxed{2\\sqrt{2}}$", "\\sqrt{8}", 1.0),
        ("$\\frac{1}{3}$", "0.5", 0.0),
        ("The answer is 72", "#### 72", 1.0),
        ("nothing", "72", 0.0),
    ],
)
def test_math_reward(completion, answer, reward):
    pytest.importorskip("math_verify")
    assert math_reward(completion, answer) == reward


def test_registry():
    assert set(available_rewards()) >= {"numeric", "math", "format"}
    assert get_reward("numeric") is numeric_reward
    assert get_reward("sparft.curricula.rewards:format_reward") is format_reward
    assert get_reward(numeric_reward) is numeric_reward
    with pytest.raises(ValueError, match="did you mean 'numeric'"):
        get_reward("numerc")
    with pytest.raises(ValueError, match="cannot import"):
        get_reward("no.such.module:fn")
