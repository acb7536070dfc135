#!/usr/bin/env bash
# Build the sdist, build the wheel FROM that sdist, install it into a fresh virtual environment outside the
# repository and run the product from there: `alignlab models tiny`, `alignlab eval run`, a short `alignlab demo`.
# Proves that everything alignlab reads at run time ships inside the package, not in the checkout.
#
#   bash scripts/wheel_check.sh            # uses .venv/bin/python; PYTHON=... to choose another interpreter
#
# To stay fast and offline, the fresh venv gets its third-party packages (torch, transformers, TRL, ...) from
# the interpreter's environment through a .pth line (site-packages appended after the venv's own, whose .pth
# files - including an editable alignlab - are NOT processed); alignlab itself comes only from the wheel.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/alignlab-wheel.XXXXXX")"
[[ -n "${KEEP_WHEEL_CHECK:-}" ]] || trap 'rm -rf "$WORK"' EXIT
step() { echo "[wheel_check] $*"; }

step "sdist -> $WORK/dist"
(cd "$REPO" && "$PY" -c "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))" \
    "$WORK/dist" >/dev/null 2>"$WORK/sdist.log") || { cat "$WORK/sdist.log"; exit 1; }
tar -xzf "$WORK"/dist/alignlab-*.tar.gz -C "$WORK"
step "wheel from the unpacked sdist"
"$PY" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/dist" "$WORK"/alignlab-*/ >"$WORK/wheel.log" 2>&1 \
    || { cat "$WORK/wheel.log"; exit 1; }

step "fresh venv outside the repository"
BASE="$("$PY" -c 'import sys; print(sys._base_executable)')"
"$BASE" -m venv "$WORK/venv"
DEPS="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
OWN="$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$DEPS" > "$OWN/_alignlab_wheel_check_deps.pth"
"$WORK/venv/bin/python" -m pip install --quiet --no-deps --no-index "$WORK"/dist/alignlab-*.whl

mkdir -p "$WORK/cwd" && cd "$WORK/cwd"
unset ALIGNLAB_HOME
export HF_HUB_OFFLINE=1 PATH="$WORK/venv/bin:$PATH"
step "installed package, not the checkout"
python - "$REPO" <<'PY'
import sys
import alignlab
from alignlab import paths
assert not alignlab.__file__.startswith(sys.argv[1]), f"imported from the checkout: {alignlab.__file__}"
assert paths.checkout_root() is None and paths.project_root() == paths.packaged_root(), paths.project_root()
for folder in paths.SHIPPED_FOLDERS:
    assert (paths.packaged_root() / folder).is_dir(), f"{folder} missing from the wheel"
print("alignlab from", alignlab.__file__)
PY
step "alignlab models tiny"
alignlab models tiny tiny --size nano --vocab-size 512 --max-position-embeddings 256
step "alignlab eval run"
alignlab eval run --suite bbq,xstest --model tiny/policy --limit 4 --out eval
step "alignlab demo (short)"
alignlab demo rounds=1 tiny_model.vocab_size=512 tiny_model.max_position_embeddings=256 sizes.pretrain_steps=4 \
    sizes.sft_steps=4 sizes.sft_examples=40 sizes.pool=24 sizes.batch=16 sizes.rm_epochs=1 sizes.dpo_epochs=1 \
    sizes.heldout_prompts=10 sizes.eval_limit=0
ls runs/demo/stages/report-*/report.html >/dev/null || { echo "[wheel_check] the demo wrote no report"; exit 1; }
step "ok"
