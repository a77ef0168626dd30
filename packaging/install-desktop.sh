#!/usr/bin/env bash
# Put LatentLab in the current user's applications menu (Linux, freedesktop.org).
#
#   bash packaging/install-desktop.sh [APP_DIR]     install (APP_DIR defaults to dist/LatentLab)
#   bash packaging/install-desktop.sh --uninstall   remove everything installed here
#
# Installing copies the built one-folder app APP_DIR to
#   ~/.local/share/latentlab/LatentLab/            (so a rebuild or `rm -rf dist` keeps the launcher working)
# and writes
#   ~/.local/share/applications/latentlab.desktop
#   ~/.local/share/icons/hicolor/{16..512}x{16..512}/apps/latentlab.png and scalable/apps/latentlab.svg
# ($XDG_DATA_HOME replaces ~/.local/share when set.)  No root needed; nothing outside those paths.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
app_home="$data_home/latentlab"
desktop_file="$data_home/applications/latentlab.desktop"
icon_root="$data_home/icons/hicolor"
sizes=(16 32 48 64 128 256 512)

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data_home/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icon_root/index.theme" ]; then
        gtk-update-icon-cache -q -t "$icon_root" || true
    fi
    # Some menus cache icons by modification time of the theme folder.
    touch "$icon_root" 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$desktop_file"
    for size in "${sizes[@]}"; do
        rm -f "$icon_root/${size}x${size}/apps/latentlab.png"
    done
    rm -f "$icon_root/scalable/apps/latentlab.svg"
    rm -rf "$app_home"
    refresh_caches
    echo "LatentLab launcher removed."
    exit 0
fi

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
fi

src=${1:-$root/dist/LatentLab}
if [ ! -x "$src/LatentLab" ]; then
    echo "error: no built app at $src (expected the executable $src/LatentLab)." >&2
    echo "Build it first with: bash packaging/build.sh" >&2
    exit 1
fi
src=$(cd "$src" && pwd)

# 1. The application folder.
mkdir -p "$app_home"
if [ "$src" != "$app_home/LatentLab" ]; then
    rm -rf "$app_home/LatentLab.new"
    cp -a "$src" "$app_home/LatentLab.new"
    rm -rf "$app_home/LatentLab"
    mv "$app_home/LatentLab.new" "$app_home/LatentLab"
fi
exe="$app_home/LatentLab/LatentLab"

# 2. Icons into the user's hicolor theme.
icons="$root/resources/icons"
for size in "${sizes[@]}"; do
    install -D -m 644 "$icons/latentlab-$size.png" "$icon_root/${size}x${size}/apps/latentlab.png"
done
install -D -m 644 "$icons/latentlab.svg" "$icon_root/scalable/apps/latentlab.svg"

# 3. The launcher, pointing at the installed executable. Exec quotes the path;
#    inside quotes the desktop entry spec wants \ " ` $ escaped with a backslash,
#    and that backslash is itself written as \\ in the file.
q=$exe
q=${q//\\/\\\\\\\\}
q=${q//\"/\\\\\"}
q=${q//\`/\\\\\`}
q=${q//\$/\\\\\$}
mkdir -p "$(dirname "$desktop_file")"
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        Exec=*) printf 'Exec="%s"\n' "$q" ;;
        TryExec=*) printf 'TryExec=%s\n' "$exe" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$root/resources/latentlab.desktop" > "$desktop_file.tmp"
chmod 644 "$desktop_file.tmp"
mv "$desktop_file.tmp" "$desktop_file"

refresh_caches
echo "Installed LatentLab:"
echo "  app       $app_home/LatentLab"
echo "  launcher  $desktop_file"
echo "  icons     $icon_root/*/apps/latentlab.{png,svg}"
echo "It appears in the applications menu (Education / Science) as \"LatentLab\"."
