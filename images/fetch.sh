#!/usr/bin/env bash
# Fetch a test image (or any file listed in images/manifest.toml) and check its sha256.
#
#   images/fetch.sh NAME [DIR]
#   images/fetch.sh --list
#
# NAME: a manifest `path` (xerox-v2/VirtualImage), the same with `-` for `/`
# (xerox-v2-VirtualImage), or `all` for every file in the manifest.
# DIR: where the images live (default $ST80_IMAGES, else ../shared/images next to the project
# root); the file is written to DIR/<path>.
#
# A file already present with the right sha256 is left alone. A download goes to a temporary
# file that replaces DIR/<path> only when its size and sha256 match the manifest.
# Exit status: 0 all fetched (or already there), 1 a download or check failed, 2 usage error.
#
# Download addresses, first match wins:
#   1. $ST80_IMAGES_URL/<path>, when ST80_IMAGES_URL is set: a mirror of the whole layout that
#      you control (CI sets it from the repository variable ST80_IMAGES_URL);
#   2. the manifest entry's `url` field;
#   3. for dbanay/ files, the dbanay/Smalltalk GitHub repository (DBANAY_RAW below).
# The xerox-v2/ files have no public address known to be stable (they are in image.tar.gz on
# Mario Wolczko's Smalltalk-80 page): without a mirror, copy them by hand; this script then
# checks them.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
manifest=$here/manifest.toml
DBANAY_RAW=${DBANAY_RAW:-https://raw.githubusercontent.com/dbanay/Smalltalk/master}

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
err() { echo "fetch.sh: $*" >&2; }

[ $# -ge 1 ] || usage 2
case "$1" in -h | --help) usage 0 ;; esac
[ -f "$manifest" ] || { err "no manifest at $manifest"; exit 2; }

# The manifest's [[file]] entries, one a line: path size sha256 url source.
entries() {
    # Fields are separated by \037 (unit separator), not tabs: `read` would merge empty fields.
    awk -v FS_=$'\037' '
        function flush() { if (path != "") print path FS_ size FS_ sha FS_ url FS_ src; path = size = sha = url = src = "" }
        /^\[\[file\]\]/ { flush(); next }
        /^[ \t]*[a-z_0-9]+[ \t]*=/ {
            key = $0; sub(/[ \t]*=.*/, "", key); gsub(/[ \t]/, "", key)
            val = $0; sub(/^[^=]*=[ \t]*/, "", val); sub(/[ \t]+#.*$/, "", val)
            if (val ~ /^".*"$/) val = substr(val, 2, length(val) - 2)
            if (key == "path" || key == "name") path = val
            else if (key == "size") size = val
            else if (key == "sha256") sha = val
            else if (key == "url") url = val
            else if (key == "source") src = val
        }
        END { flush() }
    ' "$manifest"
}

# The download address of manifest entry $1 whose `url` field is $2.
address() {
    if [ -n "${ST80_IMAGES_URL:-}" ]; then
        echo "${ST80_IMAGES_URL%/}/$1"
        return
    fi
    if [ -n "$2" ]; then
        echo "$2"
        return
    fi
    case "$1" in
        # dbanay/Smalltalk keeps the little-endian image under org/, the rest under files/.
        dbanay/VirtualImageLSB) echo "$DBANAY_RAW/org/VirtualImageLSB" ;;
        dbanay/*) echo "$DBANAY_RAW/files/${1#dbanay/}" ;;
        *) echo "" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -c1-64
    else
        shasum -a 256 "$1" | cut -c1-64
    fi
}

if [ "$1" = --list ]; then
    entries | while IFS=$'\037' read -r path size sha url src; do
        printf '%-32s %9s  %s\n' "$path" "$size" "$(address "$path" "$url")"
    done
    exit 0
fi

name=$1
dir=${2:-${ST80_IMAGES:-$root/../shared/images}}
case "$dir" in /* | [A-Za-z]:*) ;; *) dir=$root/$dir ;; esac

# fetch PATH SIZE SHA URL SOURCE: 0 ok, 1 failed.
fetch() {
    local path=$1 size=$2 sha=$3 url=$4 src=$5 dest tmp got
    dest=$dir/$path
    if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sha" ]; then
        echo "fetch.sh: $path: already present, sha256 ok ($dest)"
        return 0
    fi
    if [ -f "$dest" ]; then
        err "$path: $dest is there but has sha256 $(sha256_of "$dest"), not $sha: fetching it again"
    fi
    url=$(address "$path" "$url")
    if [ -z "$url" ]; then
        err "$path: no download address is known for this file."
        err "  It comes from: ${src:-(no source in the manifest)}."
        err "  Copy it by hand to $dest; it must have sha256 $sha ($size bytes)."
        err "  (Or set ST80_IMAGES_URL to a mirror of the images/README.md layout.)"
        return 1
    fi
    command -v curl >/dev/null || { err "$path: curl is not installed"; return 1; }
    mkdir -p "$(dirname "$dest")" || { err "$path: cannot create $(dirname "$dest")"; return 1; }
    tmp=$dest.part.$$
    echo "fetch.sh: $path: downloading $url"
    local curl_err
    if ! curl_err=$(curl --fail --location --silent --show-error --retry 2 --connect-timeout 20 \
        --max-time 300 --output "$tmp" "$url" 2>&1); then
        rm -f "$tmp"
        err "$path: download failed: $url"
        err "  $(tail -n 1 <<<"${curl_err:-curl: no message}")"
        err "  Is this machine offline, or does the address no longer serve the file? Either copy"
        err "  the file by hand to $dest (sha256 $sha, $size bytes), or set"
        err "  ST80_IMAGES to a directory that already holds the images (see images/README.md)."
        return 1
    fi
    got=$(sha256_of "$tmp")
    if [ "$got" != "$sha" ]; then
        err "$path: the downloaded file is not the one the tests were written against:"
        err "  $url gave sha256 $got ($(wc -c <"$tmp" | tr -d ' ') bytes);"
        err "  the manifest wants $sha ($size bytes). Not installed; the upstream file may have"
        err "  changed: pin a \`url\` to the matching commit in images/manifest.toml."
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$dest" || { rm -f "$tmp"; err "$path: cannot write $dest"; return 1; }
    echo "fetch.sh: $path: ok, sha256 $sha -> $dest"
}

found=0
failed=0
while IFS=$'\037' read -r path size sha url src; do
    if [ "$name" = all ]; then
        :
    elif [ "$name" != "$path" ] && [ "$name" != "${path//\//-}" ]; then
        continue
    fi
    found=1
    fetch "$path" "$size" "$sha" "$url" "$src" || failed=1
done < <(entries)

if [ "$found" = 0 ]; then
    err "no file named '$name' in $manifest; known names:"
    entries | cut -d$'\037' -f1 | sed 's/^/  /' >&2
    exit 2
fi
exit "$failed"
