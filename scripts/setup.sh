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
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

extras="${1:-}"
venv="${GRAPHPAIR_VENV:-$root/.venv}"
constraints="$root/requirements/constraints.txt"

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
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

key="$(cat pyproject.toml "$constraints" scripts/setup.sh | sha256sum | cut -c1-16)"
stamp="$venv/.graphpair-setup-$key-${extras//,/-}"
if [ -f "$stamp" ] && "$py" -c "import graphpair" >/dev/null 2>&1; then
    exit 0
fi

pip=("$py" -m pip --disable-pip-version-check --quiet)

# The extras pip can resolve on its own; 'scatter' needs --no-build-isolation (below).
pip_extras="$(printf '%s' "$extras" | tr ',' '\n' | grep -v -x -e scatter -e '' | paste -sd, - || true)"
spec="."
if [ -n "$pip_extras" ]; then spec=".[$pip_extras]"; fi

echo "setup.sh: installing torch (pinned) and graphpair${pip_extras:+ [$pip_extras]}"
"${pip[@]}" install -c "$constraints" "$(grep -E '^torch==' "$constraints")"
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
