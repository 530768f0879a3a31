#!/usr/bin/env bash
# Create (or refresh) the project virtual environment and install graphpair into it.
#
#   scripts/setup.sh            runtime dependencies only
#   scripts/setup.sh test       + test tools (pytest, hypothesis, oracles, ruff, mypy)
#   scripts/setup.sh test,scatter
#                               + torch-scatter, built from source against the pinned torch
#
# Idempotent: a stamp keyed on the dependency files and the extras skips the work on re-runs.
# torch is installed first and pinned by requirements/constraints.txt, so no later step can
# replace the local CPU wheel with a multi-GB CUDA build.
#
# A CUDA torch, for a GPU machine (benchmarks/gpu_check.sh sets these; unset, nothing changes):
#   GRAPHPAIR_TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126 scripts/setup.sh test
#                               the pinned torch from that index (a CUDA build of the same version)
#   GRAPHPAIR_SYSTEM_TORCH=1 scripts/setup.sh test
#                               a venv that sees the system's site-packages and keeps the torch
#                               installed there (an offline GPU image with CUDA torch); torch's
#                               pin is then not applied
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

extras="${1:-}"
venv="${GRAPHPAIR_VENV:-$root/.venv}"
constraints="$root/requirements/constraints.txt"
torch_index="${GRAPHPAIR_TORCH_INDEX_URL:-}"
system_torch="${GRAPHPAIR_SYSTEM_TORCH:-}"

python="${PYTHON:-}"
if [ -z "$python" ]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
fi
if [ -z "$python" ]; then
    echo "setup.sh: no python3 found; set PYTHON=/path/to/python3.10+" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup.sh: creating virtual environment in $venv"
    if [ -n "$system_torch" ]; then
        "$python" -m venv --system-site-packages "$venv"
    else
        "$python" -m venv "$venv"
    fi
fi
py="$venv/bin/python"

key="$( (cat pyproject.toml "$constraints" scripts/setup.sh; echo "$torch_index $system_torch") \
    | sha256sum | cut -c1-16)"
stamp="$venv/.graphpair-setup-$key-${extras//,/-}"
if [ -f "$stamp" ] && "$py" -c "import graphpair" >/dev/null 2>&1; then
    exit 0
fi

pip=("$py" -m pip --disable-pip-version-check --quiet)

# The extras pip can resolve on its own; 'scatter' needs --no-build-isolation (below).
pip_extras="$(printf '%s' "$extras" | tr ',' '\n' | grep -v -x -e scatter -e '' | paste -sd, - || true)"
spec="."
if [ -n "$pip_extras" ]; then spec=".[$pip_extras]"; fi

if [ -n "$system_torch" ]; then
    # Keep the system's (CUDA) torch: every pin but torch's.
    "$py" -c "import torch" || { echo "setup.sh: GRAPHPAIR_SYSTEM_TORCH set but no torch" >&2; exit 1; }
    filtered="$venv/constraints-without-torch.txt"
    grep -v -E '^torch==' "$constraints" >"$filtered"
    constraints="$filtered"
    echo "setup.sh: using the system torch and installing graphpair${pip_extras:+ [$pip_extras]}"
elif [ -n "$torch_index" ]; then
    echo "setup.sh: installing torch (pinned) from $torch_index"
    "${pip[@]}" install --index-url "$torch_index" -c "$constraints" \
        "$(grep -E '^torch==' "$constraints")"
else
    echo "setup.sh: installing torch (pinned) and graphpair${pip_extras:+ [$pip_extras]}"
    "${pip[@]}" install -c "$constraints" "$(grep -E '^torch==' "$constraints")"
fi
"${pip[@]}" install -c "$constraints" -e "$spec"

case ",$extras," in
*,scatter,*)
    # No wheels on PyPI: compile against the installed torch (about 5 minutes the first
    # time; pip's wheel cache makes later installs fast). Build isolation is off so the
    # build sees the pinned torch instead of downloading another one.
    echo "setup.sh: installing torch-scatter (built from source on first use)"
    "${pip[@]}" install -c "$constraints" setuptools wheel
    "${pip[@]}" install --no-build-isolation -c "$constraints" "torch-scatter==2.1.2"
    ;;
esac

rm -f "$venv"/.graphpair-setup-*
touch "$stamp"
