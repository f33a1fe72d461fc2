#!/usr/bin/env bash
# Installs what the desktop build (SDL2 via pkg-config) and its tests (a virtual X server,
# xdotool for input, ImageMagick for screenshots, the XKB tools for keyboard layouts, xclip to
# read the clipboard) need, with apt-get. Idempotent and quiet: does nothing when everything is there.
#
#   bash ci/desktop-deps.sh
set -euo pipefail

packages=(libsdl2-dev pkg-config xvfb xdotool imagemagick x11-xkb-utils xkb-data xclip)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "desktop-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "desktop-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
