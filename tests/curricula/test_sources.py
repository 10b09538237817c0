"""Data sources: spec parsing, the arith task, GSM8K and jsonl files, malformed rows."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sparft.curricula import arith
from sparft.curricula.prompts import ANSWER_INSTRUCTION, question_text
from sparft.curricula.rewards import numeric_reward
from sparft.curricula.sources import calc_steps, load_source, parse_spec, read_source

GSM8K = Path(
    os.environ.get("SPARFT_GSM8K", Path(__file__).resolve().parents[3] / "shared/data/gsm8k")
)


@pytest.fixture(scope="module")
def gsm8k_dir() -> Path:
    if not (GSM8K / "train.jsonl").is_file():
        pytest.skip(f"GSM8K copy not found at {GSM8K}")
    return GSM8K


# ----------------------------------------------------------------------------- spec parsing
def test_parse_spec():
    s = parse_spec("arith:seed=3,n=500")
    assert (s.kind, s.arg, dict(s.options)) == ("arith", None, {"seed": "3", "n": "500"})
    s = parse_spec("jsonl:data/x.jsonl,question=problem,answer=solution")
    assert (s.kind, s.arg, s.options["question"]) == ("jsonl", "data/x.jsonl", "problem")
    assert parse_spec("gsm8k").arg is None
    assert parse_spec("openai/gsm8k").kind == "hf"


@pytest.mark.parametrize(
    "spec, match",
    [
        ("arithmetic", "unknown data source"),
        ("gsm9k:foo", "did you mean 'gsm8k'"),
        ("", "empty data spec"),
        ("arith:x=1", "unknown option 'x'"),
        ("arith:n=abc", "must be an integer"),
        ("arith:n=0", "n must be >= 1"),
        ("arith:topics=algebra", "unknown topic"),
        ("arith:levels=0-9", "levels must be within"),
        ("jsonl:", "needs a path"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, match):
    with pytest.raises(ValueError, match=match) as info:
        load_source(spec)
    assert "\n" not in str(info.value)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_source(f"jsonl:{tmp_path / 'nope.jsonl'}")


# ----------------------------------------------------------------------------- arith
def test_arith_defaults_and_fields():
    train = load_source("arith")
    assert len(train) == arith.DEFAULT_N["train"]
    ex = train[0]
    assert [m["role"] for m in ex.prompt] == ["user"]
    assert ex.question == question_text(ex) + " " + ANSWER_INSTRUCTION
    assert ex.topic in arith.TOPICS and ex.difficulty == ex.meta["level"]
    assert len({e.id for e in train}) == len(train)
    # Every topic and level is represented, equally at the default size.
    cells = Counter((e.topic, e.meta["level"]) for e in train)
    assert len(cells) == len(arith.TOPICS) * len(arith.LEVELS)
    assert max(cells.values()) - min(cells.values()) <= 1


def test_arith_answers_are_correct():
    for ex in load_source("arith:n=300"):
        q = question_text(ex)
        if q.startswith("What is "):
            expr = q[len("What is ") : -1]
            assert str(eval(expr, {"__builtins__": {}})) == ex.answer, q  # noqa: S307 - our own generated text
        assert numeric_reward(ex.answer, ex.answer) == 1.0


def test_arith_is_deterministic_and_seed_dependent():
    a = [(e.id, e.question, e.answer) for e in load_source("arith:seed=3,n=200")]
    b = [(e.id, e.question, e.answer) for e in load_source("arith", seed=3, n=200)]
    c = [(e.id, e.question, e.answer) for e in load_source("arith:seed=4,n=200")]
    assert a == b
    assert [q for _, q, _ in a] != [q for _, q, _ in c]


def test_arith_same_in_another_process():
    code = "from sparft.curricula.sources import load_source; print([e.question for e in load_source('arith:n=40,seed=7')])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str([e.question for e in load_source("arith:n=40,seed=7")])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arith_train_and_test_are_disjoint(seed):
    train = {e.question for e in load_source(f"arith:seed={seed},n=3000")}
    test = {e.question for e in load_source(f"arith:seed={seed}", split="test", n=600)}
    other_seed_test = {e.question for e in load_source(f"arith:seed={seed + 10}", split="test")}
    assert len(test) == 600 and not train & test
    assert not train & other_seed_test  # disjoint across seeds too: the split is a hash of the text


def test_arith_levels_grow_harder():
    exs = load_source("arith:n=600")
    digits = {lv: [] for lv in arith.LEVELS}
    for e in exs:
        digits[e.meta["level"]].append(sum(c.isdigit() for c in e.question))
    means = [sum(v) / len(v) for _, v in sorted(digits.items())]
    assert all(a < b for a, b in zip(means, means[1:])), means
    easy = [e for e in exs if e.topic == "addition" and e.meta["level"] == 1]
    assert all(len(question_text(e)) <= len("What is 9 + 9?") for e in easy)


def test_arith_options_and_exhaustion():
    exs = load_source("arith:topics=addition+word,levels=1-2,n=40")
    assert {e.topic for e in exs} == {"addition", "word"} and {e.meta["level"] for e in exs} == {
        1,
        2,
    }
    with pytest.raises(ValueError, match="distinct train questions exist"):
        load_source("arith:topics=addition,levels=1,n=500")


# ----------------------------------------------------------------------------- gsm8k
def test_gsm8k_local(gsm8k_dir):
    result = read_source(f"gsm8k:{gsm8k_dir / 'train.jsonl'}")
    assert len(result.examples) == 7473 and not result.skipped
    ex = result.examples[0]
    assert ex.id == "gsm8k/train/0" and ex.answer == "72"
    assert question_text(ex).startswith("Natalia sold clips") and ex.question.endswith(
        ANSWER_INSTRUCTION
    )
    assert ex.meta["calc_steps"] == 2 and ex.meta["line"] == 1
    assert all(numeric_reward(e.meta["solution"], e.answer) == 1.0 for e in result.examples)
    # A folder or the sibling file serves the test split.
    test = load_source(f"gsm8k:{gsm8k_dir}", split="test")
    assert len(test) == 1319
    assert [e.id for e in load_source(f"gsm8k:{gsm8k_dir / 'train.jsonl'}", split="test")] == [
        e.id for e in test
    ]


def test_gsm8k_subset_is_seeded(gsm8k_dir):
    a = [e.id for e in load_source(f"gsm8k:{gsm8k_dir},n=50", seed=1)]
    b = [e.id for e in load_source(f"gsm8k:{gsm8k_dir}", seed=1, n=50)]
    c = [e.id for e in load_source(f"gsm8k:{gsm8k_dir},n=50", seed=2)]
    assert a == b != c and len(a) == 50 and a == sorted(a, key=lambda i: int(i.rsplit("/", 1)[1]))


def test_calc_steps():
    assert calc_steps("a <<1+2=3>>3 and <<3*4=12>>12\n#### 12") == 2
    assert calc_steps("First line\nsecond line\n#### 5") == 2


# ----------------------------------------------------------------------------- jsonl and malformed rows
def _write(path: Path, rows) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_jsonl_field_mapping(tmp_path):
    path = _write(
        tmp_path / "mine.jsonl",
        [
            {
                "problem": "What is 1/2 + 1/2?",
                "solution": "1",
                "type": "fractions",
                "lvl": "Level 2",
                "uid": "a",
            },
            {"problem": "What is 2+2?", "solution": "4", "type": "add", "lvl": 1, "uid": "b"},
        ],
    )
    exs = load_source(f"jsonl:{path},question=problem,answer=solution,topic=type,level=lvl,id=uid")
    assert [e.id for e in exs] == ["mine/a", "mine/b"]
    assert [e.difficulty for e in exs] == [2.0, 1.0] and exs[0].topic == "fractions"
    assert exs[1].answer == "4"


BAD_ROWS = [
    ({"question": "ok?", "answer": "#### 3"}, None),
    ("{not json", "<json>"),
    ({"answer": "#### 3"}, "question"),
    ({"question": "  ", "answer": "#### 3"}, "question"),
    ({"question": "q?", "answer": "no final marker"}, "answer"),
    ({"question": "q?", "answer": "#### lots"}, "answer"),
    ({"question": "q?"}, "answer"),
    ([1, 2], "<row>"),
]


def test_malformed_row_raises_with_file_line_and_field(tmp_path):
    for k, (row, field) in enumerate(BAD_ROWS[1:], start=2):
        path = _write(tmp_path / f"bad{k}.jsonl", [BAD_ROWS[0][0], row])
        with pytest.raises(ValueError) as info:
            load_source(f"gsm8k:{path}")
        msg = str(info.value)
        assert f"{path}:2: field {field!r}" in msg and "on_error='skip'" in msg and "\n" not in msg


def test_malformed_rows_skipped_and_counted(tmp_path):
    path = _write(
        tmp_path / "data.jsonl",
        [r for r, _ in BAD_ROWS] + ["", json.dumps({"question": "b?", "answer": "#### 1,000"})],
    )
    result = read_source(f"gsm8k:{path}", on_error="skip")
    assert [e.answer for e in result.examples] == ["3", "1000"]
    assert [(e.line, e.field) for e in result.skipped] == [
        (k + 1, f) for k, (_, f) in enumerate(BAD_ROWS) if f
    ]
    assert "skipped 7 malformed rows" in result.summary()
    # Ids keep the row index (blank lines aside), so skipping never renumbers the good rows.
    assert result.examples[1].id == "gsm8k/train/8" and result.examples[1].meta["line"] == 10


def test_nan_level_is_a_malformed_row(tmp_path):
    path = tmp_path / "nan.jsonl"
    path.write_text('{"question": "q?", "answer": "1", "level": NaN}\n')
    with pytest.raises(ValueError, match="field 'level': not a number"):
        load_source(f"jsonl:{path},level=level")


def test_empty_dataset(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(ValueError, match="has no usable examples"):
        load_source(f"gsm8k:{path}")
    path.write_text('{"question": "q"}\n')
    with pytest.raises(ValueError, match="all 1 rows were malformed"):
        load_source(f"gsm8k:{path}", on_error="skip")


def test_on_error_is_checked():
    with pytest.raises(ValueError, match="on_error"):
        load_source("arith", on_error="ignore")


def test_hub_sources_offline_are_one_line_errors(monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for spec in ("gsm8k", "hf:no-owner/no-dataset", "no-owner/no-dataset"):
        with pytest.raises(ValueError, match="could not load hub dataset.*offline") as info:
            load_source(spec)
        assert "\n" not in str(info.value)
