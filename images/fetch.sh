#!/usr/bin/env bash
# Fetch test images (files listed in images/manifest.toml) and check their sha256: a wrapper
# around `st80 fetch` (platforms/st80/src/fetch_cmd.rs) for CI and for developers who have not
# built st80 yet. It builds st80 without the desktop (no SDL2 needed) and runs it.
#
#   images/fetch.sh NAME... [--dir DIR]     same as: st80 fetch --dir DIR NAME...
#   images/fetch.sh NAME DIR                (the older form)
#   images/fetch.sh --list
#
# NAME: an image set (snapshot, lsb, xerox-v2), a manifest `path` (xerox-v2/VirtualImage), the
# same with `-` for `/`, a directory (dbanay), or `all` for every file in the manifest.
# DIR: where the images live (default $ST80_IMAGES, else ../shared/images next to the project
# root); each file is written to DIR/<path>.
#
# A file already present with the right sha256 is left alone. A download goes to DIR/<path>.part
# and replaces DIR/<path> only when its size and sha256 match the manifest. Addresses:
# $ST80_IMAGES_URL/<path> when ST80_IMAGES_URL is set (a mirror of the whole layout; CI sets it
# from the repository variable ST80_IMAGES_URL), else the manifest's `url`. The xerox-v2/ files
# have no public address known to be stable: without a mirror, copy them by hand.
# Exit status: 0 all fetched (or already there), 1 a download or check failed, 2 usage error.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case "${1:-}" in
    "" ) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
args=("$@")
if [ "$1" = --list ]; then
    args=(list)
elif [ $# -eq 2 ] && [[ "$2" != -* ]] && { [[ "$2" == */* ]] || [ -d "$2" ]; }; then
    args=(fetch --dir "$2" "$1")
else
    args=(fetch "$@")
fi
if [[ " ${args[*]} " != *" --dir "* ]]; then
    dir=${ST80_IMAGES:-$root/../shared/images}
    case "$dir" in /* | [A-Za-z]:*) ;; *) dir=$root/$dir ;; esac
    args+=(--dir "$dir")
fi
exec cargo run --quiet --manifest-path "$root/Cargo.toml" -p st80-cli --no-default-features --features fetch \
    -- "${args[@]}"
