"""The distribution holds exactly the ``sparft`` package and its five subpackages."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("bandits", "curricula", "envs", "trainers", "experiments")


def test_subpackages_import_under_sparft():
    import importlib

    for name in SUBPACKAGES:
        module = importlib.import_module(f"sparft.{name}")
        assert Path(module.__file__).parent == ROOT / name


def test_importing_bandits_stays_light():
    code = "import sys, sparft.bandits; print(sorted({'torch','transformers','optuna','wandb'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("sparft-*.whl")
    return path


def test_wheel_holds_every_subpackage_and_nothing_generic(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"sparft"}, f"wheel installs top-level names {tops}"
    for sub in SUBPACKAGES:
        for init in (ROOT / sub).rglob("__init__.py"):
            rel = init.relative_to(ROOT).as_posix()
            assert f"sparft/{rel}" in names, f"{rel} missing from the wheel: list it in pyproject.toml"
    assert not any(n.startswith("sparft/tests/") for n in names)
    assert "sparft/configs/demo.yaml" in names, "the demo config must ship so `sparft demo` works from a wheel"
    assert "sparft/envs/calibrated/smollm2_arith.json" in names, "the calibrated preset must ship with its env id"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sparft = sparft.experiments.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
