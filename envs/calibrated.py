"""Simulator presets fitted to real GRPO runs (``sparft calibrate``), and their environment ids.

A calibrated preset is one JSON file (format ``sparft.CalibratedPreset``) that holds
the fitted :class:`~sparft.envs.SimParams`, the :class:`~sparft.curricula.arms.ArmSet`
the real runs trained on (so the preset simulates exactly those examples), the
environment settings of the real bench (B, G, budget) and the fit report. Every
``*.json`` file in this package's ``calibrated/`` folder is registered on import
as a simulator preset named after the file (``calibrated/smollm2_arith.json`` ->
``learner.preset: smollm2_arith``, ``make_preset("smollm2_arith")``), and, when it
names one, as a Gymnasium id with the real bench's settings as defaults:

=========================================  ======================================================
id                                         preset
=========================================  ======================================================
``sparft/Curriculum-SmolLM2Arith-v0``      ``smollm2_arith``: SmolLM2-135M-Instruct, real GRPO on
                                           ``arith`` (``results/real_arith``), stage-1 arms
=========================================  ======================================================

The shipped file is produced from the real bench folder by::

    sparft calibrate results/real_arith --out envs/calibrated/smollm2_arith.json

(:data:`SHIPPED` gives it its id). A preset file anywhere else is registered with
:func:`register_preset`. Bump an id's version whenever its file is refitted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparft.curricula.arms import ArmSet
from sparft.envs.simulator import SimParams

__all__ = [
    "CALIBRATED_IDS", "CALIBRATED_PRESETS", "FOLDER", "FORMAT", "SHIPPED", "CalibratedPreset", "load_preset",
    "register_preset", "register_shipped", "save_preset",
]

FORMAT = "sparft.CalibratedPreset"
FORMAT_VERSION = 1
#: Where the shipped calibrated presets live (inside the package).
FOLDER = Path(__file__).with_name("calibrated")
#: preset name -> environment id of the presets this package ships.
SHIPPED: dict[str, str] = {"smollm2_arith": "sparft/Curriculum-SmolLM2Arith-v0"}
#: environment id -> preset name, of every calibrated preset registered in this process.
CALIBRATED_IDS: dict[str, str] = {}
#: preset name -> its file, of every calibrated preset registered in this process. They are
#: measurements, not designed challenges: tests of a challenge's design (an oracle teacher
#: beats uniform) may leave them out.
CALIBRATED_PRESETS: dict[str, Path] = {}
#: CurriculumEnv keyword arguments a preset file may set as its id's defaults.
ENV_KEYS = ("batch_size", "group_size", "budget")


@dataclass(frozen=True)
class CalibratedPreset:
    """A fitted simulator: dynamics, the arms they were fitted on, the real bench's settings."""

    name: str
    params: SimParams
    arms: ArmSet
    env: Mapping[str, Any] = field(default_factory=dict)
    env_id: str | None = None
    report: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "name": self.name,
            "env_id": self.env_id,
            "params": self.params.to_dict(),
            "env": dict(self.env),
            "report": dict(self.report),
            "arms": self.arms.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "preset") -> CalibratedPreset:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(
                f"{where} is not a calibrated preset (no 'format: {FORMAT}'); make one with `sparft calibrate`"
            )
        if int(data.get("version", 0)) > FORMAT_VERSION:
            raise ValueError(f"{where} was written by a newer sparft (version {data.get('version')}); upgrade sparft")
        env = {k: int(v) for k, v in dict(data.get("env") or {}).items() if k in ENV_KEYS}
        return cls(
            name=str(data.get("name") or ""),
            params=SimParams.from_dict(data["params"]),
            arms=ArmSet.from_dict(data["arms"]),
            env=env,
            env_id=data.get("env_id") or None,
            report=dict(data.get("report") or {}),
        )


def load_preset(path: str | Path) -> CalibratedPreset:
    """Read a calibrated preset file; its ``name`` defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no calibrated preset at {path}; make one with `sparft calibrate BENCH_DIR --out {path}`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}); re-create it with `sparft calibrate`") from e
    preset = CalibratedPreset.from_dict(data, str(path))
    if not preset.name:
        preset = CalibratedPreset(path.stem, preset.params, preset.arms, preset.env, preset.env_id, preset.report)
    return preset


def save_preset(path: str | Path, preset: CalibratedPreset) -> Path:
    """Write a preset file atomically (strict JSON: NaN becomes null)."""
    from sparft.fileio import atomic_write_json

    return atomic_write_json(path, preset.to_dict(), indent=1)


def _preset_function(path: Path) -> Callable[[ArmSet | None], tuple[ArmSet, SimParams]]:
    load = functools.cache(lambda: load_preset(path))

    def make(arms: ArmSet | None) -> tuple[ArmSet, SimParams]:
        # Given other arms, the fitted dynamics apply to them (their topics must match).
        p = load()
        return (arms if arms is not None else p.arms), p.params

    make.__doc__ = f"the calibrated preset of {path}"
    make.path = path  # type: ignore[attr-defined]
    return make


def register_preset(path: str | Path, name: str | None = None, env_id: str | None = None) -> str:
    """Register a preset file as simulator preset ``name`` (default: the file's stem) and,
    with ``env_id`` (default: the file's own, or :data:`SHIPPED`'s), as a Gymnasium id.

    Idempotent for the same file; another preset of the same name or id is a ``ValueError``.
    Returns the preset name.
    """
    import gymnasium as gym

    from sparft.envs import presets

    path = Path(path).resolve()
    preset = load_preset(path)  # a bad file fails here, not at the first gym.make
    name = name or path.stem
    env_id = env_id or preset.env_id or SHIPPED.get(name)
    if name in presets.PRESETS and presets.PRESETS.entry(name).meta.get("path") != path:
        raise ValueError(f"simulator preset {name!r} exists already; register {path} under another name")
    if name not in presets.PRESETS:
        presets.PRESETS.register(
            name, _preset_function(path), summary=f"fitted by `sparft calibrate` ({path.name})", path=path
        )
    CALIBRATED_PRESETS[name] = path
    if env_id:
        spec = gym.registry.get(env_id)
        if spec is not None and spec.kwargs.get("preset") != name:
            raise ValueError(f"environment id {env_id!r} is taken by preset {spec.kwargs.get('preset')!r}")
        if spec is None:
            gym.register(
                id=env_id,
                entry_point="sparft.envs.curriculum_env:CurriculumEnv",
                kwargs={"preset": name, **dict(preset.env)},
            )
        CALIBRATED_IDS[env_id] = name
    return name


def register_shipped(folder: Path = FOLDER) -> list[str]:
    """Register every preset file in ``folder`` (done on import); returns their names."""
    if not folder.is_dir():
        return []
    return [register_preset(p) for p in sorted(folder.glob("*.json"))]


register_shipped()
