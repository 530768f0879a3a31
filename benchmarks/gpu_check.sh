#!/usr/bin/env bash
# The prepared GPU check of issue 23, from a clean checkout, in one command with no prompts:
#
#   bash benchmarks/gpu_check.sh            (or: make gpu-check)
#
# 1. set-up: a virtual environment with a CUDA build of torch (scripts/setup.sh), in
#    $GRAPHPAIR_VENV (default ~/.cache/graphpair/venv-gpu, so the CPU .venv is never touched
#    and the checkout stays clean). The torch it uses:
#    the python's own torch when it is a CUDA build (GPU images ship one; GRAPHPAIR_SYSTEM_TORCH),
#    else the pinned version from $GRAPHPAIR_TORCH_INDEX_URL (default PyTorch's cu126 index).
#    torch-scatter is built only with GRAPHPAIR_GPU_SCATTER=1 (a CUDA build takes minutes).
# 2. benchmarks/gpu_check.py: the sweep, `pytest -m cuda`, torch.compile on CUDA and the
#    benchmarks; it writes benchmarks/results/gpu.md and exits 1 when a check failed.
#
# Extra arguments go to gpu_check.py (e.g. --no-bench, --data-root DIR). Offline datasets come
# from $GRAPHPAIR_DATA or ../shared/data. Budget: under 8 minutes on one H100 with set-up.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
export GRAPHPAIR_VENV="${GRAPHPAIR_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/graphpair/venv-gpu}"
mkdir -p "$(dirname "$GRAPHPAIR_VENV")"
extras="test"
if [ "${GRAPHPAIR_GPU_SCATTER:-}" = "1" ]; then extras="test,scatter"; fi

if [ -z "${GRAPHPAIR_SYSTEM_TORCH:-}" ] && [ -z "${GRAPHPAIR_TORCH_INDEX_URL:-}" ]; then
    if "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
        >/dev/null 2>&1; then
        export GRAPHPAIR_SYSTEM_TORCH=1
    else
        export GRAPHPAIR_TORCH_INDEX_URL="https://download.pytorch.org/whl/cu126"
    fi
fi

start=$(date +%s)
PYTHON="$python" bash scripts/setup.sh "$extras"
echo "gpu_check.sh: set-up took $(( $(date +%s) - start )) s"

"$GRAPHPAIR_VENV/bin/python" - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_check.sh: torch {torch.__version__} sees no CUDA device; nothing to check")
print(f"gpu_check.sh: torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.get_device_name(0)}")
PY

"$GRAPHPAIR_VENV/bin/python" benchmarks/gpu_check.py --device cuda "$@"
