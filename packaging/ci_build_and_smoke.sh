#!/usr/bin/env bash
# CI: build the frozen LatentLab app and run its --smoke self-check twice:
#   1. QT_QPA_PLATFORM=offscreen
#   2. under Xvfb with QT_QPA_PLATFORM=xcb (a real X11 window)
# Exits non-zero if the build or either smoke fails.
#
#   bash packaging/ci_build_and_smoke.sh
#
# Installs what it needs when run as root on Debian/Ubuntu: Xvfb (xvfb, xauth) and the
# libraries a target machine needs (libgl1 libegl1 fontconfig-config fonts-dejavu-core).
# Environment:
#   LATENTLAB_PACK_VENV=/some/venv   build venv (default build/pack-venv, made if missing)
#   LATENTLAB_MEASURE_STARTUP=1      also time launch -> window shown (5 runs, Xvfb)
#   SMOKE_TIMEOUT=300                seconds allowed for one smoke run
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
smoke_timeout=${SMOKE_TIMEOUT:-300}

# --- system packages -------------------------------------------------------
need=()
for pkg in xvfb xauth libgl1 libegl1 fontconfig-config fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ci: installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "ci: missing system packages: ${need[*]} (not root / no apt-get)" >&2
        exit 1
    fi
fi

# --- build -----------------------------------------------------------------
t0=$(date +%s)
bash "$here/build.sh"
build_s=$(( $(date +%s) - t0 ))
app="$root/dist/LatentLab/LatentLab"

# --- smoke runs ------------------------------------------------------------
passed=0
failed=0
run_smoke() {
    local label=$1
    shift
    local log
    log=$(mktemp)
    local t=$(date +%s.%N)
    set +e
    # Run from a neutral folder: the frozen app must not depend on the source tree.
    (cd /tmp && "$@") >"$log" 2>&1
    local rc=$?
    set -e
    local secs
    secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t" "$(date +%s.%N)")
    echo "---- frozen --smoke, $label: exit $rc in ${secs} s; output:"
    sed 's/^/    /' "$log" | tail -n 40
    rm -f "$log"
    if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

run_smoke "offscreen" env QT_QPA_PLATFORM=offscreen timeout "$smoke_timeout" "$app" --smoke
run_smoke "xcb under Xvfb" xvfb-run -a -s "-screen 0 1280x800x24" \
    env QT_QPA_PLATFORM=xcb timeout "$smoke_timeout" "$app" --smoke

if [ "${LATENTLAB_MEASURE_STARTUP:-0}" = "1" ]; then
    echo "---- start-up time (launch -> window shown, Xvfb/xcb)"
    (cd /tmp && xvfb-run -a -s "-screen 0 1280x800x24" \
        python3 "$here/measure_startup.py" --runs 5 -- "$app" --smoke) || failed=$((failed + 1))
fi

echo "ci: build ${build_s} s, size $(du -sm "$root/dist/LatentLab" | cut -f1) MB"
echo "ci: frozen app checks: $passed ok, $failed failing"
[ "$failed" -eq 0 ]
