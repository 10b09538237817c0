"""Calibration: the simulator's dynamics fitted to real GRPO runs, and judged by the ranking they predict.

**Data.** A bench folder (``sparft bench CONFIG --out DIR``): its resolved config, the
ArmSet every cell trained on (``arms.json``; rebuilt from the config for simulated
benches) and its cells, each a finished run that records, per GRPO step, every
group's example id, arm, rollout count ``n`` and reward sum ``k`` (pass/fail
rewards, so ``k`` is a count), and for filtering teachers which groups trained.

**Likelihood (teacher-forced replay).** For each cell a
:class:`~sparft.envs.SimulatedLearner` with candidate :class:`~sparft.envs.SimParams`
replays the run: at step ``t`` it gives each recorded example its solve probability
``p_i = c_i sigmoid(a (theta_{m_i} + mu_i - d_i))``, the rewards add
``log Binomial(k_i | n_i, p_i)``, and then the simulator's own update is applied to
the *recorded* rewards (a ``(B, G)`` 0/1 array with ``k_i`` ones per kept group).
The teacher's choices depend only on past outcomes, so this is the exact likelihood
of the observed rewards given the choices (no simulation noise enters: the update
is deterministic with ``update_noise = 0``). Optionally (``accuracy_weight > 0``;
default 0) the held-out accuracy adds ``w log Binomial(round(acc n_test) | n_test,
q_t)`` with ``q_t`` the simulator's :meth:`~sparft.envs.SimulatedLearner.evaluate` at
each evaluation: off by default because a real held-out set is scored greedily on
other questions than the training pool the simulator evaluates on, so that term
would bend the dynamics to fit an offset; the held-out curve is reported as a check
instead. The replay runs over all cells and all candidate parameter vectors at once
(arrays ``(L, C, ...)``), so that a central-difference gradient costs one pass.

**Fit.** Maximum likelihood with L-BFGS-B over the fitted fields (per-topic
``topic_skill``, ``discrimination``, ``learning_rate``, ``transfer``, ``forgetting``,
``variance_exponent``, ``memorisation``) in unconstrained coordinates (log for
positive fields, logit for fields in ``[0, 1]``, plain for skills) inside a box of
plausible values, from several starts (the first at data-driven topic skills, the
others perturbed from it by a fixed seed); the best start wins.
``update_noise`` cannot enter a teacher-forced likelihood; its stated alternative
(``noise="spread"``) is moment matching: the smallest value on a grid whose
simulated benchmark has the real bench's spread of final accuracy between seeds
(pooled within strategies, on the fit seeds).

**Checks.** Seeds are split into fit and check sets (even / odd by default). On the
check cells, for the fitted preset and for the default one (``SimParams()``): the
log-likelihood per rollout, the per-arm solve-rate error (mean absolute difference
between predicted and observed solve rate per cell, arm and window of steps) and
the held-out accuracy error (mean absolute difference at the evaluations,
including the one before training). Then the test of the simulator's worth:
Kendall's tau between the strategies' order by mean final accuracy on a simulated
bench (same arms, budget, B, G; 16 seeds) and on the real bench, with a bootstrap
interval that resamples seeds within each strategy on both sides.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sparft.curricula.arms import ArmSet
from sparft.envs.simulator import SimParams, SimWorld, build_world
from sparft.experiments.learners import learner_plugin

__all__ = [
    "FIT_FIELDS", "Bench", "CalibrationResult", "FitOptions", "FitResult", "ParamSpace",
    "RankAgreement", "Replay", "calibrate", "final_accuracies", "fit", "fit_errors",
    "fit_update_noise", "kendall_tau", "load_bench", "log_likelihood", "mixed_share", "simulated_bench",
    "split_half_tau", "split_seeds", "tau_b",
]

#: The SimParams fields fitted by maximum likelihood (``topic_skill``: one per topic).
FIT_FIELDS = (
    "topic_skill", "discrimination", "learning_rate", "transfer", "forgetting", "variance_exponent",
    "memorisation",
)
#: field -> (transform, lowest, highest): the box the optimiser searches, in natural units.
BOUNDS: dict[str, tuple[str, float, float]] = {
    "topic_skill": ("identity", -2.0, 3.0),
    "discrimination": ("log", 0.3, 100.0),
    "learning_rate": ("log", 1e-5, 0.5),
    "transfer": ("logit", 1e-4, 1.0 - 1e-4),
    "forgetting": ("logit", 1e-6, 0.5),
    "variance_exponent": ("log", 0.02, 5.0),
    "memorisation": ("log", 1e-3, 200.0),
    # Fitted only when asked (--fields ...,update_normalisation): 0 keeps the SGD-like update.
    "update_normalisation": ("logit", 1e-3, 1.0 - 1e-3),
}
#: Spread of the random starts around the first one, in unconstrained units.
_START_SCALE = {"identity": 0.15, "log": 0.7, "logit": 1.0}
#: Fields whose search starts here rather than at the base value.
_START_AT = {"update_normalisation": 0.5}
#: update_noise values tried by the moment-matching alternative.
NOISE_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def _logsig(x: np.ndarray) -> np.ndarray:
    """log sigmoid(x), exact for any x."""
    return -np.logaddexp(0.0, -x)


def _logsig_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log sigmoid(x), log sigmoid(-x)), sharing the one transcendental term."""
    soft = np.log1p(np.exp(-np.abs(x)))
    return np.minimum(x, 0.0) - soft, np.minimum(-x, 0.0) - soft


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * x)


# ======================================================================= the bench
@dataclass
class Bench:
    """A bench folder's resolved config, the arms its cells trained on, and the cells."""

    folder: Path | None
    cfg: Any  # ExperimentConfig
    arms: ArmSet
    cells: list[dict[str, Any]]

    @property
    def seeds(self) -> list[int]:
        return sorted({int(c["seed"]) for c in self.cells})

    @property
    def strategies(self) -> list[str]:
        return sorted({str(c["strategy"]) for c in self.cells}, key=self._order)

    def _order(self, label: str) -> tuple[int, str]:
        labels = [s.display for s in self.cfg.bench.strategies]
        return (labels.index(label) if label in labels else len(labels), label)

    def by_strategy(self, seeds: Sequence[int] | None = None) -> dict[str, list[dict[str, Any]]]:
        keep = None if seeds is None else {int(s) for s in seeds}
        out: dict[str, list[dict[str, Any]]] = {}
        for label in self.strategies:
            cs = [c for c in self.cells if c["strategy"] == label and (keep is None or int(c["seed"]) in keep)]
            if cs:
                out[label] = sorted(cs, key=lambda c: int(c["seed"]))
        return out


def load_bench(folder: str | Path) -> Bench:
    """Read a bench folder; bad input is a ``ValueError`` that names the problem and the fix."""
    from sparft.experiments import records
    from sparft.experiments.bench import ARMS, CELLS
    from sparft.experiments.config import load_config

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; give the bench folder `sparft bench CONFIG --out DIR` wrote")
    if not (folder / "config.yaml").is_file():
        raise ValueError(
            f"{folder} is not a bench folder (no config.yaml); give the folder `sparft bench CONFIG --out DIR` wrote"
        )
    cfg = load_config(folder / "config.yaml", base_dir=folder, check_files=False)
    paths = sorted((folder / CELLS).glob("*.json"))
    if not paths:
        raise ValueError(
            f"{folder} has no finished cells ({CELLS}/*.json); run `sparft bench CONFIG --out {folder}` first"
        )
    cells = []
    for path in paths:
        cell = records.read_json(path)
        if not isinstance(cell, Mapping) or "strategy" not in cell or "seed" not in cell:
            raise ValueError(f"{path} is not a bench cell (no strategy and seed); remove it from {folder / CELLS}")
        if not cell.get("outcomes"):
            raise ValueError(
                f"cell {path.name} has no per-step outcomes (made by an older sparft); "
                f"delete it and re-run `sparft bench CONFIG --out {folder}` to redo it"
            )
        cells.append(dict(cell, _file=path.name))
    if (folder / ARMS).is_file():
        arms = ArmSet.load(folder / ARMS)
    elif not learner_plugin(cfg).needs_arms_file:  # the config alone rebuilds them
        from sparft.experiments.wiring import build_arms

        arms = build_arms(cfg)
    else:
        raise ValueError(
            f"{folder} has no {ARMS} (the arms its cells trained on); re-run "
            f"`sparft bench CONFIG --out {folder}`: it writes {ARMS} before running the missing cells"
        )
    known = set(arms.ids)
    for cell in cells:
        for o in cell["outcomes"]:
            missing = [i for i in o["ids"] if i not in known]
            if missing:
                raise ValueError(
                    f"cell {cell['_file']} trained on example {missing[0]!r}, which is not in the bench's arms; "
                    "the cells and the arms come from different benches"
                )
    cells.sort(key=lambda c: (str(c["strategy"]), int(c["seed"])))
    return Bench(folder=folder, cfg=cfg, arms=arms, cells=cells)


def split_seeds(
    seeds: Sequence[int], fit_seeds: Sequence[int] | None = None, check_seeds: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """(fit, check) seeds: even seeds fit and odd ones check unless given; the two must not overlap."""
    seeds = sorted({int(s) for s in seeds})
    fit_set = [s for s in seeds if s % 2 == 0] if fit_seeds is None else sorted({int(s) for s in fit_seeds})
    if check_seeds is None:
        check = [s for s in seeds if s not in fit_set]
    else:
        check = sorted({int(s) for s in check_seeds})
    for name, chosen in (("fit", fit_set), ("check", check)):
        absent = [s for s in chosen if s not in seeds]
        if absent:
            raise ValueError(f"--{name}-seeds: seed {absent[0]} has no cell; the bench has seeds {seeds}")
    both = sorted(set(fit_set) & set(check))
    if both:
        raise ValueError(f"seed {both[0]} is both a fit and a check seed; give disjoint --fit-seeds and --check-seeds")
    if not fit_set:
        raise ValueError(f"no fit seeds (the bench has seeds {seeds}); give --fit-seeds")
    return fit_set, check


# ======================================================================= the replay
class Replay:
    """Teacher-forced replay of recorded cells through the simulator's dynamics.

    Compiled once from the cells and the world (items, topics, held-out set) of
    ``world_params``; :meth:`run` then evaluates any number of parameter rows at once.
    Fields that shape the world (difficulty noise, unsolvable items, prerequisites)
    come from ``world_params`` and are not fitted.

    Args:
        cells: bench cells (dicts with ``outcomes``; ``eval_steps``, ``accuracy`` and
            ``initial_accuracy`` for the held-out terms).
        arms: the ArmSet the cells trained on.
        world_params: the SimParams whose world is used.
        n_test: held-out questions behind each recorded accuracy (the config's ``data.n_test``).
    """

    def __init__(
        self, cells: Sequence[Mapping[str, Any]], arms: ArmSet, world_params: SimParams, n_test: int
    ) -> None:
        if not cells:
            raise ValueError("no cells to replay")
        w = build_world(arms, world_params)
        self.world: SimWorld = w
        self.n_test = int(n_test)
        c = len(cells)
        t = max(len(cell["outcomes"]) for cell in cells)
        b = max(len(o["ids"]) for cell in cells for o in cell["outcomes"])
        self.shape = (c, t, b)
        item = np.zeros((c, t, b), dtype=np.int64)
        valid = np.zeros((c, t, b), dtype=bool)
        kept = np.zeros((c, t, b), dtype=bool)
        n = np.zeros((c, t, b))
        k = np.zeros((c, t, b))
        arm = np.full((c, t, b), -1, dtype=np.int64)
        acc = np.full((c, t + 1), np.nan)
        for ci, cell in enumerate(cells):
            where = cell.get("_file", f"cell {cell.get('strategy')} seed {cell.get('seed')}")
            for ti, o in enumerate(cell["outcomes"]):
                m = len(o["ids"])
                try:
                    item[ci, ti, :m] = [w.index[i] for i in o["ids"]]
                except KeyError as e:
                    raise ValueError(
                        f"{where} trained on example {e.args[0]!r}, which is not in the arms; "
                        "give the ArmSet the bench trained on"
                    ) from None
                valid[ci, ti, :m] = True
                n[ci, ti, :m] = o["n"]
                k[ci, ti, :m] = np.round(np.asarray(o["reward"], dtype=np.float64))
                arm[ci, ti, :m] = o.get("arm", w.item_arm[item[ci, ti, :m]])
                kept[ci, ti, :m] = o.get("kept", True)
            kc, nc = k[ci][valid[ci]], n[ci][valid[ci]]
            if (kc < 0).any() or (kc > nc).any() or (nc < 1).any():
                raise ValueError(f"{where}: a group's reward sum lies outside [0, n]; rewards must be pass/fail")
            if "initial_accuracy" in cell and cell["initial_accuracy"] is not None:
                acc[ci, 0] = float(cell["initial_accuracy"])
            for s, a in zip(cell.get("eval_steps", []), cell.get("accuracy", [])):
                if 0 < int(s) <= t and a is not None and math.isfinite(float(a)):
                    acc[ci, int(s)] = float(a)
        self.item, self.valid, self.n, self.k, self.arm = item, valid, n, k, arm
        self.kept = kept & valid
        self.acc_obs = acc
        self.eval_mask = np.isfinite(acc)
        self.acc_count = np.round(np.nan_to_num(acc) * self.n_test)
        self.topic = w.item_topic[item]
        self.difficulty = w.item_difficulty[item]
        self.ceiling = w.item_ceiling[item]
        self.exact_ceiling = bool((w.item_ceiling == 1.0).all())
        with np.errstate(invalid="ignore", divide="ignore"):
            self.variance = np.where(valid, 4.0 * k * (n - k) / np.maximum(n, 1) ** 2, 0.0)
        self.n_kept = self.kept.sum(axis=2)
        onehot = (self.topic[..., None] == np.arange(w.n_topics)) & self.kept[..., None]
        self.onehot = np.ascontiguousarray(onehot.transpose(1, 0, 2, 3), dtype=np.float64)  # (T, C, B, M)
        self.flat_item = np.arange(c)[:, None, None] * w.n_items + item  # (C, T, B) into (C*N)
        from scipy.special import gammaln

        nn, kk = n[valid], k[valid]
        self.log_binom = float(np.sum(gammaln(nn + 1) - gammaln(kk + 1) - gammaln(nn - kk + 1)))
        x = self.acc_count[self.eval_mask]
        self.log_binom_acc = float(
            np.sum(gammaln(self.n_test + 1) - gammaln(x + 1) - gammaln(self.n_test - x + 1))
        )
        self.n_rollouts = int(n[valid].sum())
        self.n_evals = int(self.eval_mask.sum())

    def run(self, rows: Mapping[str, np.ndarray], predict: bool = False) -> dict[str, np.ndarray]:
        """Replay every cell under ``L`` parameter rows (see :meth:`ParamSpace.rows`).

        Returns ``loglik`` ``(L, C)`` of the rollouts and ``loglik_accuracy`` ``(L, C)`` of
        the held-out accuracies (both without their binomial coefficients, which do not
        depend on the parameters: add :attr:`log_binom` and :attr:`log_binom_acc`); with ``predict``
        also ``p`` ``(L, C, T, B)`` (solve probability of each recorded group before its
        update) and ``accuracy`` ``(L, C, T + 1)`` (the simulator's held-out accuracy after
        each number of updates where one was recorded, else NaN).
        """
        w = self.world
        wp = w.params
        skill0 = np.asarray(rows["skill0"], dtype=np.float64)
        n_rows = skill0.shape[0]
        c, t_max, _ = self.shape
        a = rows["discrimination"][:, None, None]
        eta = rows["learning_rate"][:, None, None]
        rho = rows["variance_exponent"][:, None, None, None]
        lam = rows["forgetting"][:, None]
        nu = rows["update_normalisation"][:, None]
        memo_rate = (rows["learning_rate"] * rows["memorisation"])[:, None, None]
        transfer = rows["transfer"]  # (L, M, M)
        cells = np.arange(c)[:, None]
        skill = np.broadcast_to(skill0[:, None, :], (n_rows, c, w.n_topics)).copy()
        memo = np.zeros((n_rows, c * w.n_items))
        with np.errstate(divide="ignore"):
            info_all = np.where(self.variance > 0, self.variance[None] ** rho, 0.0) * self.kept  # (L,C,T,B)
        scale = 1.0 / np.maximum(self.n_kept, 1)  # (C, T)
        row_offset = (np.arange(n_rows) * c * w.n_items)[:, None, None]
        ll = np.zeros((n_rows, c))
        ll_acc = np.zeros((n_rows, c))
        p_out = np.full((n_rows, *self.shape), np.nan) if predict else None
        acc_out = np.full((n_rows, c, t_max + 1), np.nan) if predict else None

        def evaluate(step: int) -> None:
            mask = self.eval_mask[:, step]
            if not mask.any():
                return
            logit = rows["discrimination"][:, None, None] * (skill[:, :, w.test_topic] - w.test_difficulty)
            q = (w.test_ceiling * _sigmoid(logit)).mean(axis=2)  # (L, C)
            qc = np.clip(q, 1e-12, 1 - 1e-12)
            x = self.acc_count[:, step]
            term = x * np.log(qc) + (self.n_test - x) * np.log1p(-qc)
            ll_acc[:] += np.where(mask, term, 0.0)
            if acc_out is not None:
                acc_out[:, :, step] = np.where(mask, q, np.nan)

        evaluate(0)
        for t in range(t_max):
            topic = self.topic[:, t]
            valid, k, n = self.valid[:, t], self.k[:, t], self.n[:, t]
            x = a * (skill[:, cells, topic] + memo[:, self.flat_item[:, t]] - self.difficulty[:, t])
            if self.exact_ceiling:
                logp, log1mp = _logsig_pair(x)
                if p_out is not None:
                    p_out[:, :, t] = np.where(valid, _sigmoid(x), np.nan)
            else:
                p = np.clip(self.ceiling[:, t] * _sigmoid(x), 1e-12, 1 - 1e-12)
                logp, log1mp = np.log(p), np.log1p(-p)
                if p_out is not None:
                    p_out[:, :, t] = np.where(valid, self.ceiling[:, t] * _sigmoid(x), np.nan)
            ll += np.where(valid, k * logp + (n - k) * log1mp, 0.0).sum(axis=2)

            # The simulator's update (SimulatedLearner._update) on the recorded, kept groups.
            info = info_all[:, :, t]  # (L, C, B), 0 for groups that did not train
            # (C, L, B) @ (C, B, M): each topic's summed informativeness, batched over cells.
            gain = np.matmul(info.transpose(1, 0, 2), self.onehot[t]).transpose(1, 0, 2)
            strength = info.sum(axis=2) * scale[None, :, t]  # (L, C): S, the mean informativeness
            with np.errstate(divide="ignore"):
                size = np.where(strength > 0, strength ** -nu, 1.0)  # the update's normalisation
            gain *= (eta * scale[:, t][None, :, None]) * size[:, :, None]
            for m, r, s in w.prerequisites:
                gain[:, :, m] *= _sigmoid(wp.prerequisite_sharpness * (skill[:, :, r] - s))
            delta = np.matmul(gain, transfer)
            forget = lam * (strength * size)
            skill = skill - forget[:, :, None] * (skill - skill0[:, None, :]) + delta
            memo *= np.repeat(1.0 - forget, w.n_items, axis=1)
            idx = (row_offset + self.flat_item[None, :, t]).ravel()
            memo += np.bincount(
                idx, weights=(memo_rate * info * size[:, :, None]).ravel(), minlength=memo.size
            ).reshape(memo.shape)
            evaluate(t + 1)
        out = {"loglik": ll, "loglik_accuracy": ll_acc}
        if predict:
            out["p"], out["accuracy"] = p_out, acc_out
        return out


class ParamSpace:
    """The fitted fields of SimParams as one unconstrained vector, and back.

    ``topic_skill`` contributes one coordinate per topic of the world (``initial_skill``
    plus the base's override of that topic); every other fitted field one coordinate.
    Fields not fitted keep the ``base`` value.
    """

    def __init__(self, base: SimParams, topics: Sequence[str], fields: Sequence[str] = FIT_FIELDS) -> None:
        unknown = [f for f in fields if f not in BOUNDS]
        if unknown:
            raise ValueError(f"cannot fit {unknown[0]!r}; fittable fields: {', '.join(BOUNDS)}")
        self.base, self.topics = base, tuple(topics)
        self.fields = tuple(f for f in BOUNDS if f in fields and not (f == "transfer" and len(topics) < 2))
        self.names: list[str] = []
        self.kinds: list[str] = []
        for f in self.fields:
            if f == "topic_skill":
                self.names += [f"topic_skill:{m}" for m in self.topics]
                self.kinds += [f] * len(self.topics)
            else:
                self.names.append(f)
                self.kinds.append(f)
        self.bounds = [tuple(_forward(BOUNDS[k][0], np.array([BOUNDS[k][1], BOUNDS[k][2]]))) for k in self.kinds]

    @property
    def size(self) -> int:
        return len(self.names)

    def encode(self, params: SimParams) -> np.ndarray:
        natural = []
        skills = dict(params.topic_skill)
        for name, kind in zip(self.names, self.kinds):
            if kind == "topic_skill":
                natural.append(skills.get(name.split(":", 1)[1], params.initial_skill))
            else:
                natural.append(getattr(params, kind))
        return np.array(
            [_forward(BOUNDS[k][0], np.clip(v, BOUNDS[k][1], BOUNDS[k][2])) for v, k in zip(natural, self.kinds)]
        )

    def natural(self, theta: np.ndarray) -> np.ndarray:
        """``(..., P)`` unconstrained -> natural units."""
        theta = np.asarray(theta, dtype=np.float64)
        out = np.empty_like(theta)
        for j, kind in enumerate(self.kinds):
            out[..., j] = _inverse(BOUNDS[kind][0], theta[..., j])
        return out

    def decode(self, theta: np.ndarray) -> SimParams:
        values = self.natural(theta)
        changes: dict[str, Any] = {}
        skills = dict(self.base.topic_skill)
        for name, kind, v in zip(self.names, self.kinds, values):
            if kind == "topic_skill":
                skills[name.split(":", 1)[1]] = float(v)
            else:
                changes[kind] = float(v)
        if "topic_skill" in self.fields:
            changes["topic_skill"] = tuple((m, round(skills[m], 10)) for m in self.topics if m in skills)
        return self.base.replace(**{k: (round(v, 12) if isinstance(v, float) else v) for k, v in changes.items()})

    def rows(self, thetas: np.ndarray, world: SimWorld) -> dict[str, np.ndarray]:
        """Parameter rows for :meth:`Replay.run` from ``(L, P)`` unconstrained vectors."""
        thetas = np.atleast_2d(thetas)
        values = self.natural(thetas)
        base = rows_of([self.base], world)
        n_rows = thetas.shape[0]
        out = {key: np.repeat(v, n_rows, axis=0) for key, v in base.items()}
        tindex = {m: i for i, m in enumerate(world.topics)}
        for j, (name, kind) in enumerate(zip(self.names, self.kinds)):
            if kind == "topic_skill":
                out["skill0"][:, tindex[name.split(":", 1)[1]]] = values[:, j]
            elif kind == "transfer":
                out["transfer"] = _transfer_matrix(self.base, world, values[:, j])
            else:
                out[kind] = values[:, j].copy()
        return out


def _forward(kind: str, x: np.ndarray) -> np.ndarray:
    if kind == "log":
        return np.log(x)
    if kind == "logit":
        return np.log(x) - np.log1p(-x)
    return np.asarray(x, dtype=np.float64)


def _inverse(kind: str, y: np.ndarray) -> np.ndarray:
    if kind == "log":
        return np.exp(y)
    if kind == "logit":
        return _sigmoid(y)
    return y


def _transfer_matrix(params: SimParams, world: SimWorld, coefficient: np.ndarray) -> np.ndarray:
    """``(L, M, M)``: ``coefficient`` off the diagonal, the base's topic overrides, 1 on the diagonal."""
    m = world.n_topics
    out = np.broadcast_to(np.asarray(coefficient, dtype=np.float64)[:, None, None], (len(coefficient), m, m)).copy()
    tindex = {t: i for i, t in enumerate(world.topics)}
    for a, b, v in params.topic_transfer:
        out[:, tindex[a], tindex[b]] = v
    out[:, np.arange(m), np.arange(m)] = 1.0
    return out


def rows_of(params: Sequence[SimParams], world: SimWorld) -> dict[str, np.ndarray]:
    """Parameter rows for :meth:`Replay.run` from SimParams (their world must be ``world``'s)."""
    skill0 = []
    for p in params:
        s = np.full(world.n_topics, p.initial_skill, dtype=np.float64)
        tindex = {t: i for i, t in enumerate(world.topics)}
        for name, v in p.topic_skill:
            if name not in tindex:
                raise ValueError(f"SimParams.topic_skill names topic {name!r}; the arms have {list(world.topics)}")
            s[tindex[name]] = v
        skill0.append(s)
    return {
        "skill0": np.array(skill0),
        "discrimination": np.array([p.discrimination for p in params], dtype=np.float64),
        "learning_rate": np.array([p.learning_rate for p in params], dtype=np.float64),
        "variance_exponent": np.array([p.variance_exponent for p in params], dtype=np.float64),
        "forgetting": np.array([p.forgetting for p in params], dtype=np.float64),
        "memorisation": np.array([p.memorisation for p in params], dtype=np.float64),
        "update_normalisation": np.array([p.update_normalisation for p in params], dtype=np.float64),
        "transfer": np.concatenate([_transfer_matrix(p, world, np.array([p.transfer])) for p in params]),
    }


def log_likelihood(
    cells: Sequence[Mapping[str, Any]],
    arms: ArmSet,
    params: SimParams,
    n_test: int = 64,
    accuracy_weight: float = 0.0,
) -> float:
    """Log-likelihood of the cells' rollouts (plus ``accuracy_weight`` times that of their
    held-out accuracies) under ``params``, by teacher-forced replay."""
    replay = Replay(cells, arms, params, n_test)
    out = replay.run(rows_of([params], replay.world))
    total = out["loglik"].sum() + replay.log_binom
    if accuracy_weight:
        total += accuracy_weight * (out["loglik_accuracy"].sum() + replay.log_binom_acc)
    return float(total)


# ======================================================================= the fit
@dataclass(frozen=True)
class FitOptions:
    """How :func:`fit` searches."""

    fields: tuple[str, ...] = field(default=FIT_FIELDS, metadata={"help": "SimParams fields to fit"})
    accuracy_weight: float = field(
        default=0.0, metadata={"help": "weight of the held-out accuracy's binomial likelihood (0: rollouts only)"}
    )
    starts: int = field(default=4, metadata={"help": "optimiser starts (the first data-driven, others perturbed)"})
    seed: int = field(default=0, metadata={"help": "seed of the perturbed starts"})
    max_iter: int = field(default=300, metadata={"help": "L-BFGS-B iterations per start"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        if not self.accuracy_weight >= 0:
            raise ValueError(f"accuracy_weight must be >= 0, got {self.accuracy_weight}")
        if int(self.starts) != self.starts or self.starts < 1:
            raise ValueError(f"starts must be a positive integer, got {self.starts}")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter}")


@dataclass
class FitResult:
    """The fitted params and how the search went."""

    params: SimParams
    loglik: float  # the objective at the optimum: rollouts + accuracy_weight * held-out
    loglik_rollouts: float
    n_rollouts: int
    starts: list[dict[str, Any]]
    seconds: float
    names: list[str]
    values: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "loglik": self.loglik,
            "loglik_rollouts": self.loglik_rollouts,
            "loglik_per_rollout": self.loglik_rollouts / max(self.n_rollouts, 1),
            "n_rollouts": self.n_rollouts,
            "fitted": dict(zip(self.names, self.values)),
            "starts": self.starts,
            "seconds": self.seconds,
        }


def _initial_skills(replay: Replay, discrimination: float, steps: int = 10) -> np.ndarray:
    """Per-topic skill that best explains the first ``steps`` updates' rewards with no learning."""
    w = replay.world
    grid = np.linspace(BOUNDS["topic_skill"][1], BOUNDS["topic_skill"][2], 501)
    out = np.full(w.n_topics, np.nan)
    sl = (slice(None), slice(0, steps))
    valid, k, n = replay.valid[sl], replay.k[sl], replay.n[sl]
    for m in range(w.n_topics):
        mask = valid & (replay.topic[sl] == m)
        if not mask.any():
            continue
        x = discrimination * (grid[:, None] - replay.difficulty[sl][mask][None, :])
        ll = (k[mask] * _logsig(x) + (n[mask] - k[mask]) * _logsig(-x)).sum(axis=1)
        out[m] = grid[int(np.argmax(ll))]
    return out


def _one_blas_thread() -> Any:
    """Single-threaded BLAS: the arrays here are small, and threads only contend (3x slower on 2 cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def fit(
    cells: Sequence[Mapping[str, Any]],
    arms: ArmSet,
    base: SimParams | None = None,
    options: FitOptions | None = None,
    n_test: int = 64,
) -> FitResult:
    """Maximum-likelihood SimParams for the cells (see the module docstring).

    ``base`` gives every field that is not fitted (default ``SimParams()``) and the
    first start of the fitted ones (its topic skills replaced by data-driven ones).
    """
    from scipy.optimize import minimize

    base = base if base is not None else SimParams()
    options = options or FitOptions()
    t0 = time.perf_counter()
    replay = Replay(cells, arms, base, n_test)
    space = ParamSpace(base, replay.world.topics, options.fields)
    norm = float(max(replay.n_rollouts, 1))
    weight = float(options.accuracy_weight)
    h = 1e-5

    def objective(thetas: np.ndarray) -> np.ndarray:
        out = replay.run(space.rows(thetas, replay.world))
        total = out["loglik"].sum(axis=1) + replay.log_binom
        if weight:
            total = total + weight * (out["loglik_accuracy"].sum(axis=1) + replay.log_binom_acc)
        return -total / norm

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        steps = np.eye(space.size) * h
        batch = np.vstack([theta, theta + steps, theta - steps])
        f = objective(batch)
        grad = (f[1 : 1 + space.size] - f[1 + space.size :]) / (2 * h)
        if not np.all(np.isfinite(f)):
            return (float(f[0]) if np.isfinite(f[0]) else 1e6), np.nan_to_num(grad)
        return float(f[0]), grad

    first = space.encode(base)
    if "topic_skill" in space.fields:
        init = _initial_skills(replay, base.discrimination)
        for j, name in enumerate(space.names):
            if name.startswith("topic_skill:"):
                m = replay.world.topics.index(name.split(":", 1)[1])
                if np.isfinite(init[m]):
                    first[j] = init[m]
    for j, kind in enumerate(space.kinds):
        if kind in _START_AT:  # a base at the edge of its box, where the transform's slope vanishes
            first[j] = _forward(BOUNDS[kind][0], np.array(_START_AT[kind]))
    rng = np.random.default_rng(options.seed)
    lo = np.array([b[0] for b in space.bounds])
    hi = np.array([b[1] for b in space.bounds])
    scale = np.array([_START_SCALE[BOUNDS[k][0]] for k in space.kinds])
    starts = [np.clip(first, lo, hi)]
    for _ in range(options.starts - 1):
        starts.append(np.clip(first + rng.normal(0.0, 1.0, space.size) * scale, lo, hi))
    best, log = None, []
    for i, x0 in enumerate(starts):
        with _one_blas_thread():
            res = minimize(
                value_and_grad, x0, jac=True, method="L-BFGS-B", bounds=space.bounds,
                options={"maxiter": options.max_iter, "gtol": 1e-6, "ftol": 1e-10},
            )
        ll = -float(res.fun) * norm
        log.append({
            "start": i, "loglik": ll, "iterations": int(res.nit), "evaluations": int(res.nfev),
            "converged": bool(res.success),
        })
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    params = space.decode(best.x)
    final = replay.run(rows_of([params], replay.world))
    ll_roll = float(final["loglik"].sum() + replay.log_binom)
    return FitResult(
        params=params,
        loglik=-float(best.fun) * norm,
        loglik_rollouts=ll_roll,
        n_rollouts=replay.n_rollouts,
        starts=log,
        seconds=time.perf_counter() - t0,
        names=list(space.names),
        values=[float(v) for v in space.natural(best.x)],
    )


# ======================================================================= the checks
def fit_errors(
    cells: Sequence[Mapping[str, Any]],
    arms: ArmSet,
    params: SimParams,
    n_test: int = 64,
    window: int = 10,
) -> dict[str, Any]:
    """How well ``params`` explain the cells under teacher-forced replay.

    ``solve_rate_mae``: mean over (cell, arm, window of ``window`` steps) with at least
    one group of |predicted - observed| solve rate (predicted: the rollout-weighted mean
    of ``p_i``); ``accuracy_mae``: mean |simulated - recorded| held-out accuracy over
    the evaluations (the one before training included); ``loglik`` and
    ``loglik_per_rollout`` of the rollouts; ``per_arm``: each arm's observed and
    predicted solve rate over all the cells and steps.
    """
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    replay = Replay(cells, arms, params, n_test)
    out = replay.run(rows_of([params], replay.world), predict=True)
    p = out["p"][0]
    valid, n, k, arm = replay.valid, replay.n, replay.k, replay.arm
    n_arms = arms.n_arms
    c, t, _ = replay.shape
    win = np.broadcast_to((np.arange(t) // window)[None, :, None], replay.shape)
    n_win = int(win.max()) + 1
    key = (np.arange(c)[:, None, None] * n_win + win) * n_arms + np.clip(arm, 0, n_arms - 1)
    key, nv, kv, pv = key[valid], n[valid], k[valid], p[valid]
    size = c * n_win * n_arms
    tot_n = np.bincount(key, weights=nv, minlength=size)
    tot_k = np.bincount(key, weights=kv, minlength=size)
    tot_p = np.bincount(key, weights=pv * nv, minlength=size)
    seen = tot_n > 0
    solve_mae = float(np.mean(np.abs(tot_p[seen] - tot_k[seen]) / tot_n[seen])) if seen.any() else math.nan
    acc_pred = out["accuracy"][0]
    mask = replay.eval_mask
    acc_mae = float(np.mean(np.abs(acc_pred[mask] - replay.acc_obs[mask]))) if mask.any() else math.nan
    arm_key = np.clip(arm[valid], 0, n_arms - 1)
    an = np.bincount(arm_key, weights=nv, minlength=n_arms)
    ak = np.bincount(arm_key, weights=kv, minlength=n_arms)
    ap = np.bincount(arm_key, weights=pv * nv, minlength=n_arms)
    per_arm = [
        {"arm": j, "rollouts": int(an[j]), "observed": float(ak[j] / an[j]), "predicted": float(ap[j] / an[j])}
        for j in range(n_arms) if an[j] > 0
    ]
    ll = float(out["loglik"].sum() + replay.log_binom)
    return {
        "cells": len(cells),
        "rollouts": replay.n_rollouts,
        "loglik": ll,
        "loglik_per_rollout": ll / max(replay.n_rollouts, 1),
        "loglik_accuracy": float(out["loglik_accuracy"].sum() + replay.log_binom_acc),
        "solve_rate_mae": solve_mae,
        "accuracy_mae": acc_mae,
        "window": int(window),
        "per_arm": per_arm,
    }


@dataclass(frozen=True)
class RankAgreement:
    """Kendall's tau between two orders of the same strategies, with a bootstrap interval."""

    tau: float
    ci_low: float
    ci_high: float
    p_value: float
    n_strategies: int
    n_boot: int
    means_a: dict[str, float]
    means_b: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def kendall_tau(
    a: Mapping[str, Sequence[float]],
    b: Mapping[str, Sequence[float]],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> RankAgreement:
    """Kendall's tau-b (``scipy.stats.kendalltau``) between the strategies' mean scores in
    ``a`` and in ``b`` (per strategy, one score per seed), over the strategies both have.

    The interval is the percentile bootstrap: each replicate resamples, with replacement,
    the seeds of every strategy in ``a`` and in ``b`` independently (a stratified
    bootstrap), recomputes the means and their tau. Replicates whose tau is undefined
    (all means tied) are left out.
    """
    from scipy.stats import kendalltau

    names = [s for s in a if s in b]
    if len(names) < 2:
        raise ValueError(f"rank agreement needs at least 2 strategies in both sets; common: {names}")
    sa = [np.asarray(a[s], dtype=np.float64) for s in names]
    sb = [np.asarray(b[s], dtype=np.float64) for s in names]
    for name, x in zip(names * 2, sa + sb):
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError(f"strategy {name!r} has no scores or a NaN score; rank agreement needs finite scores")
    ma = np.array([x.mean() for x in sa])
    mb = np.array([x.mean() for x in sb])
    res = kendalltau(ma, mb)
    rng = np.random.default_rng(seed)

    def boot(groups: list[np.ndarray]) -> np.ndarray:
        return np.stack([x[rng.integers(0, x.size, (n_boot, x.size))].mean(axis=1) for x in groups], axis=1)

    taus = tau_b(boot(sa), boot(sb))
    taus = taus[np.isfinite(taus)]
    alpha = (1.0 - level) / 2
    lo, hi = (np.quantile(taus, [alpha, 1 - alpha]) if taus.size else (math.nan, math.nan))
    return RankAgreement(
        tau=float(res.statistic),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=float(res.pvalue),
        n_strategies=len(names),
        n_boot=int(n_boot),
        means_a=dict(zip(names, ma.tolist())),
        means_b=dict(zip(names, mb.tolist())),
    )


def tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair of ``x`` and ``y`` ``(..., S)``: the statistic
    ``scipy.stats.kendalltau`` computes, over leading dimensions (NaN where a row is all ties)."""
    i, j = np.triu_indices(np.shape(x)[-1], k=1)
    sx = np.sign(x[..., j] - x[..., i])
    sy = np.sign(y[..., j] - y[..., i])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sx * sy).sum(axis=-1) / np.sqrt((sx != 0).sum(axis=-1) * (sy != 0).sum(axis=-1))


def split_half_tau(b: Bench, strategies: Sequence[str]) -> dict[str, Any]:
    """How reproducible the real order itself is: Kendall's tau between the strategies'
    mean final accuracy on one half of the seeds and on the other, over every split of
    the seeds all ``strategies`` ran into two halves of equal size (one seed left out of
    each split when their number is odd).

    No simulator can be expected to agree with the real order better than the real
    order agrees with itself at this many seeds; a split-half tau near 0 says the real
    differences are within seed noise, and a rank agreement against them measures noise.
    """
    from itertools import combinations

    per = b.by_strategy()
    common = sorted(set.intersection(*({int(c["seed"]) for c in per[s]} for s in strategies)))
    half = len(common) // 2
    if half < 1:
        return {"seeds": common, "splits": 0, "mean": math.nan, "min": math.nan, "max": math.nan, "taus": []}
    finals = {s: {int(c["seed"]): float(c["final_accuracy"]) for c in per[s]} for s in strategies}
    taus = []
    for a in combinations(common, half):
        rest = [x for x in common if x not in a]
        for bb in combinations(rest, half):
            if bb[0] < a[0]:  # each unordered pair of halves once
                continue
            ma = np.array([[np.mean([finals[s][x] for x in a]) for s in strategies]])
            mb = np.array([[np.mean([finals[s][x] for x in bb]) for s in strategies]])
            taus.append(float(tau_b(ma, mb)[0]))
    t = np.array([x for x in taus if math.isfinite(x)])
    return {"seeds": common, "splits": len(taus), "mean": float(t.mean()) if t.size else math.nan,
            "min": float(t.min()) if t.size else math.nan, "max": float(t.max()) if t.size else math.nan,
            "taus": taus}


def mixed_share(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, float]:
    """Per strategy, the mean share of its groups whose rewards were mixed (some rollouts
    passed, some failed): the groups GRPO learns from."""
    out = {}
    for name, cs in cells.items():
        shares = []
        for c in cs:
            k = np.concatenate([np.asarray(o["reward"], dtype=np.float64) for o in c["outcomes"]])
            n = np.concatenate([np.asarray(o["n"], dtype=np.float64) for o in c["outcomes"]])
            shares.append(float(np.mean((k > 0) & (k < n))) if k.size else math.nan)
        out[name] = float(np.mean(shares)) if shares else math.nan
    return out


def final_accuracies(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[float]]:
    """Per strategy, the final held-out accuracy of each cell (in seed order)."""
    out = {}
    for name, cs in cells.items():
        vals = []
        for c in sorted(cs, key=lambda c: int(c["seed"])):
            v = c.get("final_accuracy")
            if v is None:
                v = c["accuracy"][-1] if c.get("accuracy") else c["initial_accuracy"]
            vals.append(math.nan if v is None else float(v))
        out[name] = vals
    return out


def simulated_bench(
    params: SimParams,
    arms: ArmSet,
    cfg: Any,
    strategies: Sequence[Any],
    seeds: Sequence[int],
) -> dict[str, list[dict[str, Any]]]:
    """Every strategy on every seed on the simulator with ``params`` on ``arms``, in process.

    The config is the real bench's (budget, B, G, evaluation schedule, reward signal,
    environment options) with a simulated learner whose parameters are ``params`` and
    whose arms are ``arms`` (written to a temporary ArmSet file, as ``data.arms``).
    Returns the cells (:meth:`EpisodeResult.to_dict`) by strategy label.
    """
    from sparft.experiments.config import LearnerConfig, load_config, strategy_of
    from sparft.experiments.runner import run_episode

    specs = [strategy_of(s) for s in strategies]
    with tempfile.TemporaryDirectory(prefix="sparft-calibrate-") as tmp:
        path = Path(tmp) / "arms.json"
        arms.save(path)
        data = cfg.to_dict()
        data["learner"] = dataclasses.asdict(LearnerConfig(kind="simulated", preset="default", params=params.to_dict()))
        data["data"] = {**data["data"], "arms": str(path), "cluster": {}, "embed": {}}
        data["bench"] = {**data["bench"], "strategies": [], "workers": 1}
        data["sweep"] = {}
        data["demo"] = {}
        sim_cfg = load_config(data=data, base_dir=tmp, check_files=False)
        out: dict[str, list[dict[str, Any]]] = {}
        for spec in specs:
            out[spec.display] = [run_episode(sim_cfg, int(s), spec).to_dict() for s in seeds]
    return out


def _pooled_std(finals: Mapping[str, Sequence[float]]) -> float:
    """Within-strategy spread of final accuracy: sqrt of the mean of the per-strategy variances."""
    var = [np.var(v, ddof=1) for v in finals.values() if len(v) >= 2 and np.all(np.isfinite(v))]
    return float(np.sqrt(np.mean(var))) if var else math.nan


def fit_update_noise(
    params: SimParams,
    arms: ArmSet,
    cfg: Any,
    strategies: Sequence[Any],
    real_finals: Mapping[str, Sequence[float]],
    seeds: Sequence[int],
    grid: Sequence[float] = NOISE_GRID,
) -> tuple[float, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """``update_noise`` by moment matching (the stated alternative to a likelihood).

    For each value of ``grid``, a simulated bench; the chosen value is the one whose
    pooled within-strategy std of final accuracy is nearest the real one's.
    Returns (value, a report, the chosen value's simulated cells).
    """
    target = _pooled_std(real_finals)
    if not math.isfinite(target):
        raise ValueError("moment matching of update_noise needs at least 2 fit seeds per strategy; use noise='zero'")
    tried, best = [], None
    for sigma in grid:
        cells = simulated_bench(params.replace(update_noise=float(sigma)), arms, cfg, strategies, seeds)
        spread = _pooled_std(final_accuracies(cells))
        tried.append({"update_noise": float(sigma), "spread": spread})
        if best is None or abs(spread - target) < best[0]:
            best = (abs(spread - target), float(sigma), cells)
    assert best is not None
    report = {"method": "spread", "real_spread": target, "grid": tried, "chosen": best[1]}
    return best[1], report, best[2]


# ======================================================================= the command's work
@dataclass
class CalibrationResult:
    """What :func:`calibrate` found: the fitted params and the report written beside them."""

    params: SimParams
    arms: ArmSet
    env: dict[str, int]
    report: dict[str, Any]


def calibrate(
    bench: Bench | str | Path,
    fit_seeds: Sequence[int] | None = None,
    check_seeds: Sequence[int] | None = None,
    sim_seeds: int = 16,
    rank: bool = True,
    noise: Literal["zero", "spread"] = "spread",
    options: FitOptions | None = None,
    window: int | None = None,
    n_boot: int = 2000,
    log: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit a bench's fit seeds, check on its check seeds against ``SimParams()``, and
    (``rank``) measure the rank agreement of both presets with the real bench.

    ``window``: steps per solve-rate window (default: the bench's ``env.eval_every``).
    ``noise``: ``"spread"`` fits ``update_noise`` by moment matching (needs ``rank``'s
    simulated benches and 2+ fit seeds per strategy), ``"zero"`` leaves it at 0.
    """
    say = log or (lambda msg: None)
    if noise not in ("zero", "spread"):
        raise ValueError(f"noise must be 'zero' or 'spread', got {noise!r}")
    if int(sim_seeds) != sim_seeds or sim_seeds < 1:
        raise ValueError(f"--sim-seeds must be a positive integer, got {sim_seeds}")
    b = bench if isinstance(bench, Bench) else load_bench(bench)
    cfg = b.cfg
    fit_set, check_set = split_seeds(b.seeds, fit_seeds, check_seeds)
    fit_cells = [c for c in b.cells if int(c["seed"]) in fit_set]
    check_cells = [c for c in b.cells if int(c["seed"]) in check_set]
    n_test = int(cfg.data.n_test)
    window = int(window or cfg.env.eval_every)
    options = options or FitOptions()
    base = SimParams()
    say(f"fitting {len(fit_cells)} cells (seeds {fit_set}) ...")
    result = fit(fit_cells, b.arms, base, options, n_test)
    params = result.params
    say(f"  fitted in {result.seconds:.1f} s")
    default = SimParams()
    report: dict[str, Any] = {
        "bench": str(b.folder) if b.folder else None,
        "bench_name": cfg.name,
        "learner": learner_plugin(cfg).describe(cfg),
        "fit_seeds": fit_set,
        "check_seeds": check_set,
        "cells": {
            "fit": [c.get("_file", f"{c['strategy']}__seed{c['seed']}") for c in fit_cells],
            "check": [c.get("_file", f"{c['strategy']}__seed{c['seed']}") for c in check_cells],
        },
        "objective": {
            "rollouts": "binomial log-likelihood of each group's reward sum, teacher-forced replay",
            "accuracy_weight": options.accuracy_weight,
            "fields": list(options.fields),
            "starts": options.starts,
        },
        "fit": result.to_dict(),
    }
    errors: dict[str, Any] = {}
    for label, p in (("fitted", params), ("default", default)):
        errors[label] = {"fit": _brief(fit_errors(fit_cells, b.arms, p, n_test, window))}
        if check_cells:
            errors[label]["check"] = fit_errors(check_cells, b.arms, p, n_test, window)
    report["errors"] = errors

    strategies = _strategy_specs(b)
    noise_report: dict[str, Any] = {"method": noise, "chosen": 0.0}
    sim_cells_fitted = None
    seeds = list(range(int(sim_seeds)))
    if noise == "spread":
        if not rank:
            raise ValueError("noise='spread' fits update_noise with simulated benches; drop --no-rank or use --noise zero")
        say("matching update_noise to the real spread between seeds ...")
        real_fit = final_accuracies(b.by_strategy(fit_set))
        real_fit = {k: v for k, v in real_fit.items() if k in strategies}
        sigma, noise_report, sim_cells_fitted = fit_update_noise(
            params, b.arms, cfg, list(strategies.values()), real_fit, seeds
        )
        params = params.replace(update_noise=sigma)
    report["update_noise"] = noise_report

    if rank:
        if len(strategies) < 2:
            raise ValueError(
                "rank agreement needs at least 2 strategies of bench.strategies with cells; use --no-rank"
            )
        say(f"simulated benches: {len(strategies)} strategies x {len(seeds)} seeds, fitted and default ...")
        if sim_cells_fitted is None:
            sim_cells_fitted = simulated_bench(params, b.arms, cfg, list(strategies.values()), seeds)
        sim_cells_default = simulated_bench(default, b.arms, cfg, list(strategies.values()), seeds)
        real_all = {k: v for k, v in final_accuracies(b.by_strategy()).items() if k in strategies}
        real_check = {k: v for k, v in final_accuracies(b.by_strategy(check_set)).items() if k in strategies}
        rank_report: dict[str, Any] = {
            "sim_seeds": len(seeds),
            "strategies": list(strategies),
            "real_means": {k: float(np.mean(v)) for k, v in real_all.items()},
            "real_split_half": split_half_tau(b, list(real_all)),
            "real_mixed_share": mixed_share({k: v for k, v in b.by_strategy().items() if k in strategies}),
        }
        for label, sim in (("fitted", sim_cells_fitted), ("default", sim_cells_default)):
            finals = final_accuracies(sim)
            entry = {"all_seeds": kendall_tau(real_all, finals, n_boot=n_boot).to_dict()}
            if len(real_check) >= 2 and check_set:
                entry["check_seeds"] = kendall_tau(real_check, finals, n_boot=n_boot).to_dict()
            entry["sim_means"] = {k: float(np.mean(v)) for k, v in finals.items()}
            entry["sim_mixed_share"] = mixed_share(sim)
            rank_report[label] = entry
        report["rank"] = rank_report
    from sparft.experiments.bench import provenance

    report["provenance"] = provenance()
    env = {"batch_size": cfg.env.batch_size, "group_size": cfg.env.group_size, "budget": cfg.env.budget}
    return CalibrationResult(params=params, arms=b.arms, env=env, report=report)


def _brief(errors: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in errors.items() if k != "per_arm"}


def _strategy_specs(b: Bench) -> dict[str, Any]:
    """label -> StrategyConfig for the bench's strategies that have cells (simulable)."""
    have = set(b.strategies)
    return {s.display: s for s in b.cfg.bench.strategies if s.display in have}
