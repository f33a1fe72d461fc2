#!/usr/bin/env bash
# Runs the st80 VM (the desktop window) on a fresh Debian/Ubuntu machine with Rust and gcc:
# installs SDL2's development files with apt-get when pkg-config cannot find them, then
# `cargo run --release -- ARGS`.
#
#   ./run.sh ../shared/images/xerox-v2/VirtualImage
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! pkg-config --exists sdl2 2>/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "run.sh: installing SDL2 (libsdl2-dev, pkg-config) with apt-get" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libsdl2-dev pkg-config
fi
# `st80 IMAGE ...` is short for `st80 run IMAGE ...`; st80 itself knows its subcommands.
exec cargo run --release -- "$@"
