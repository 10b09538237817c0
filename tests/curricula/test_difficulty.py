"""Difficulty: solve rate from a handed-in generator (cached), labels, proxies, normalisation."""

import numpy as np
import pytest

from sparft.curricula.difficulty import (
    compute_difficulty,
    label_difficulty,
    minmax,
    proxy_difficulty,
    rank_normalize,
    solve_rate_difficulty,
)
from sparft.curricula.examples import Example
from sparft.curricula.sources import load_source


class FakeModel:
    """Answers right with a per-question probability that falls with the question's level."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.calls: list[int] = []

    def __call__(self, prompts, k):
        self.calls.append(len(prompts))
        out = []
        for messages in prompts:
            question = messages[-1]["content"]
            answer = next(e.answer for e in self.pool if e.question == question)
            p = {1: 0.95, 2: 0.8, 3: 0.6, 4: 0.35, 5: 0.1, 6: 0.0}[self.level[question]]
            out.append([answer if self.rng.random() < p else "I am not sure" for _ in range(k)])
        return out

    def bind(self, examples):
        self.pool = examples
        self.level = {e.question: e.meta["level"] for e in examples}
        return self


@pytest.fixture
def pool():
    return load_source("arith:n=90,seed=1")


def test_solve_rate_tracks_level_and_is_cached(pool, tmp_path):
    model = FakeModel().bind(pool)
    scores = solve_rate_difficulty(
        pool, model, model_key="fake", k=16, batch_size=8, cache_dir=tmp_path, progress=False
    )
    assert scores.method == "solve_rate" and scores.source == "solve_rate:fake@k16"
    assert sum(model.calls) == len(pool) and max(model.calls) == 8
    by_level = {
        lv: scores.normalized[[e.meta["level"] == lv for e in pool]].mean() for lv in range(1, 7)
    }
    assert by_level[1] < 0.2 and by_level[6] == 1.0
    assert all(by_level[a] < by_level[a + 1] for a in range(1, 6)), by_level
    assert np.allclose(scores.normalized, 1.0 - scores.raw)

    # Second call: everything from the cache, the model is not asked again.
    again = FakeModel(seed=99).bind(pool)
    cached = solve_rate_difficulty(
        pool, again, model_key="fake", k=16, cache_dir=tmp_path, progress=False
    )
    assert again.calls == [] and np.array_equal(cached.raw, scores.raw)
    # Another model key, or another k, is a different cache entry.
    other = FakeModel().bind(pool)
    solve_rate_difficulty(
        pool[:5], other, model_key="fake", k=4, cache_dir=tmp_path, progress=False
    )
    assert sum(other.calls) == 5


def test_solve_rate_resumes_after_interruption(pool, tmp_path):
    model = FakeModel().bind(pool)

    def flaky(prompts, k):
        if sum(model.calls) >= 16:
            raise KeyboardInterrupt
        return model(prompts, k)

    with pytest.raises(KeyboardInterrupt):
        solve_rate_difficulty(
            pool, flaky, model_key="m", k=2, batch_size=8, cache_dir=tmp_path, progress=False
        )
    # A torn last line must not break the cache.
    (cache_file,) = (tmp_path / "solve_rate").glob("*.jsonl")
    with cache_file.open("a") as f:
        f.write('{"key": "abc", "pass')
    rest = FakeModel().bind(pool)
    solve_rate_difficulty(
        pool, rest, model_key="m", k=2, batch_size=8, cache_dir=tmp_path, progress=False
    )
    assert sum(rest.calls) == len(pool) - 16


def test_generate_with_wrong_shape_is_an_error(pool, tmp_path):
    with pytest.raises(ValueError, match="each must hold k=3"):
        solve_rate_difficulty(
            pool[:4],
            lambda p, k: [["1"]] * len(p),
            model_key="x",
            k=3,
            cache_dir=tmp_path,
            progress=False,
        )
    with pytest.raises(ValueError, match="needs a model"):
        compute_difficulty(pool, "solve_rate")


def test_label_uses_the_declared_range(pool):
    scores = label_difficulty(pool)
    levels = np.array([e.meta["level"] for e in pool])
    assert np.allclose(scores.normalized, (levels - 1) / 5) and scores.source == "label"
    # Only some levels present: still scaled over the declared 1..6 range.
    easy = [e for e in pool if e.meta["level"] <= 2]
    assert label_difficulty(easy).normalized.max() == pytest.approx(0.2)


def test_label_missing_or_nan_is_one_line_error():
    exs = [Example(id="a", prompt=({"role": "user", "content": "q"},), answer="1", difficulty=None)]
    with pytest.raises(ValueError, match="no difficulty label.*--difficulty proxy"):
        label_difficulty(exs)
    nan = [
        Example(
            id="b", prompt=({"role": "user", "content": "q"},), answer="1", difficulty=float("nan")
        )
    ]
    with pytest.raises(ValueError, match="example 'b' is nan") as info:
        compute_difficulty(nan, "label")
    assert "\n" not in str(info.value)


def test_proxy_calc_steps_and_digits():
    def ex(i, question, steps=None):
        meta = {"calc_steps": steps} if steps is not None else {}
        return Example(
            id=str(i), prompt=({"role": "user", "content": question},), answer="1", meta=meta
        )

    gsm = [ex(0, "q", 1), ex(1, "q", 3), ex(2, "q", 3), ex(3, "q", 7)]
    scores = proxy_difficulty(gsm)
    assert scores.source == "proxy:calc_steps"
    assert scores.normalized.tolist() == [0.0, 0.5, 0.5, 1.0]
    plain = proxy_difficulty([ex(0, "What is 1 + 2?"), ex(1, "What is 123 * 45?")])
    assert plain.source == "proxy:digits" and plain.raw.tolist() == [2.0, 5.0]


def test_auto_picks_label_then_proxy(pool):
    assert compute_difficulty(pool).source == "label"
    unlabeled = [Example(id=e.id, prompt=e.prompt, answer=e.answer) for e in pool]
    assert compute_difficulty(unlabeled).source == "proxy:digits"
    with pytest.raises(ValueError, match="unknown difficulty method"):
        compute_difficulty(pool, "magic")
    with pytest.raises(ValueError, match="empty"):
        compute_difficulty([], "auto")


def test_normalisers():
    assert minmax(np.array([2.0, 4.0, 6.0])).tolist() == [0.0, 0.5, 1.0]
    assert minmax(np.array([3.0, 3.0])).tolist() == [0.5, 0.5]
    assert minmax(np.array([0.0, 10.0]), 0, 5).tolist() == [0.0, 1.0]
    r = rank_normalize(np.array([5.0, 1.0, 1.0, 9.0]))
    assert r.tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6, 1.0])
    assert rank_normalize(np.array([1.0])).tolist() == [0.5]
