#!/usr/bin/env bash
# Build the LatentLab one-folder desktop application with PyInstaller.
#
#   bash packaging/build.sh
#
# Result: dist/LatentLab/ (gitignored); run dist/LatentLab/LatentLab, or install the
# launcher with `bash packaging/install-desktop.sh`.
#
# Works from a fresh clone: it makes a build virtualenv in build/pack-venv (gitignored)
# and installs LatentLab with its `package` extra (PyInstaller, hooks-contrib) into it.
# Environment:
#   PYTHON=python3.11              interpreter for the build venv (default: python3)
#   LATENTLAB_PACK_VENV=/some/venv  use (or create) this venv instead of build/pack-venv
#   LATENTLAB_SKIP_INSTALL=1        do not pip-install into the venv (it is already set up)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

venv=${LATENTLAB_PACK_VENV:-$root/build/pack-venv}
python=${PYTHON:-python3}
start=$(date +%s)

if [ ! -x "$venv/bin/python" ]; then
    echo "build.sh: creating build venv $venv"
    "$python" -m venv "$venv"
fi
if [ "${LATENTLAB_SKIP_INSTALL:-0}" != "1" ]; then
    echo "build.sh: installing LatentLab[package] into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[package]"
fi

echo "build.sh: running PyInstaller"
"$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
    "$root/packaging/latentlab.spec"

app="$root/dist/LatentLab"
test -x "$app/LatentLab"
test -f "$app/_internal/resources/digits.npz"
test -f "$app/_internal/resources/icons/latentlab-256.png"

size_mb=$(du -sm "$app" | cut -f1)
files=$(find "$app" -type f | wc -l)
echo "build.sh: built $app/LatentLab in $(( $(date +%s) - start )) s: ${size_mb} MB, ${files} files"
