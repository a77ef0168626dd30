#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine for LatentLab: the system libraries Qt needs,
# a virtual environment in .venv, and LatentLab installed into it.
#   bash scripts/setup.sh          # the app
#   bash scripts/setup.sh --test   # the app plus the test tools (pytest, pytest-qt, ruff, mypy, import-linter)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

# Qt's xcb/offscreen platforms need these; fonts so text is not drawn as boxes.
packages="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 fontconfig-config fonts-dejavu-core"
[ -n "$extras" ] && packages="$packages xvfb"
if command -v apt-get >/dev/null 2>&1; then
  missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing system packages: $missing"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ".$extras"
echo "LatentLab $(.venv/bin/python -c 'import latentlab; print(latentlab.__version__)') is installed in .venv"
