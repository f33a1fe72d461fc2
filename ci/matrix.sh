#!/usr/bin/env bash
# The cross-architecture matrix: one image, every host.
#
#   ci/matrix.sh [--cycles N] [--no-install] [-v] [TARGET...]
#
# For every runnable target (native, or under qemu-user / wine) it builds st80-core's tests and
# the `st80` binary, runs the tests, then runs the Xerox image (big-endian) and dbanay's
# little-endian copy for N cycles headless and compares the display hash and the PNG with the
# native x86_64 run. Link-only and check-only targets prove the code builds there; the
# `TRIPLE+desktop` rows build the SDL2 desktop `st80` (default features) for aarch64, armv7 and
# Windows against the target's own SDL2 and start it under qemu/wine. It ends with a table and
# exits non-zero if any target failed or drew a different screen.
#
# TARGET: a name from `all_targets` below, or a group: `all` (default), `run` (the runnable
# ones), `build` (link-, check-only and desktop rows), `desktop` (the `+desktop` rows). The
# native target is always built and run: it gives the reference hash.
#
# It installs what it needs itself (Debian/Ubuntu x86_64 host: apt-get, with sudo when not
# root; rustup) and is idempotent: a second run installs nothing and rebuilds nothing.
#
# Environment: ST80_IMAGES (default ../shared/images next to the project root; see
# images/README.md), CARGO_TARGET_DIR (default target/ of the project; logs go to
# $CARGO_TARGET_DIR/matrix/).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)

# ---------------------------------------------------------------------------------------------
# The targets.
#   run:    build, run the core tests and the display check (native, qemu or wine)
#   link:   build and link the st80 binary only
#   check:  `cargo check` of the crates that need no platform SDK
#   desktop: `cargo build -p st80-cli` with default features (the SDL2 desktop) for the triple
#            before `+desktop`, linked against that target's SDL2 (Debian's arm64/armhf
#            packages unpacked into a sysroot, SDL2.dll from PyPI's pysdl2-dll), then
#            `st80 --help` under qemu (every symbol bound at start) or wine
native=x86_64-unknown-linux-gnu
all_targets=(
    x86_64-unknown-linux-gnu
    aarch64-unknown-linux-gnu
    armv7-unknown-linux-gnueabihf
    riscv64gc-unknown-linux-gnu
    s390x-unknown-linux-gnu
    x86_64-pc-windows-gnu
    arm-unknown-linux-gnueabihf
    x86_64-apple-darwin
    aarch64-apple-darwin
    aarch64-unknown-linux-gnu+desktop
    armv7-unknown-linux-gnueabihf+desktop
    x86_64-pc-windows-gnu+desktop
)
declare -A kind=(
    [x86_64-unknown-linux-gnu]=run
    [aarch64-unknown-linux-gnu]=run
    [armv7-unknown-linux-gnueabihf]=run
    [riscv64gc-unknown-linux-gnu]=run
    [s390x-unknown-linux-gnu]=run
    [x86_64-pc-windows-gnu]=run
    [arm-unknown-linux-gnueabihf]=link
    [x86_64-apple-darwin]=check
    [aarch64-apple-darwin]=check
    [aarch64-unknown-linux-gnu+desktop]=desktop
    [armv7-unknown-linux-gnueabihf+desktop]=desktop
    [x86_64-pc-windows-gnu+desktop]=desktop
)
# What each target stands for (printed in the table).
declare -A about=(
    [x86_64-unknown-linux-gnu]="native, LE 64-bit (reference)"
    [aarch64-unknown-linux-gnu]="qemu, LE 64-bit ARM"
    [armv7-unknown-linux-gnueabihf]="qemu, LE 32-bit ARM"
    [riscv64gc-unknown-linux-gnu]="qemu, LE 64-bit RISC-V"
    [s390x-unknown-linux-gnu]="qemu, BIG-endian 64-bit"
    [x86_64-pc-windows-gnu]="wine, Windows x64"
    [arm-unknown-linux-gnueabihf]="link only, ARMv6 (Pi Zero/1)"
    [x86_64-apple-darwin]="cargo check, macOS x86_64"
    [aarch64-apple-darwin]="cargo check, macOS arm64"
    [aarch64-unknown-linux-gnu+desktop]="SDL desktop: link, qemu start"
    [armv7-unknown-linux-gnueabihf+desktop]="SDL desktop: link, qemu start"
    [x86_64-pc-windows-gnu+desktop]="SDL desktop: link, wine start"
)
# GNU triple of the cross gcc (and of its sysroot /usr/<triple>), Debian architecture, qemu.
declare -A gnu=(
    [aarch64-unknown-linux-gnu]=aarch64-linux-gnu
    [armv7-unknown-linux-gnueabihf]=arm-linux-gnueabihf
    [riscv64gc-unknown-linux-gnu]=riscv64-linux-gnu
    [s390x-unknown-linux-gnu]=s390x-linux-gnu
    [arm-unknown-linux-gnueabihf]=arm-linux-gnueabihf
)
declare -A debarch=(
    [aarch64-unknown-linux-gnu]=arm64
    [armv7-unknown-linux-gnueabihf]=armhf
    [riscv64gc-unknown-linux-gnu]=riscv64
    [s390x-unknown-linux-gnu]=s390x
    [arm-unknown-linux-gnueabihf]=armhf
)
declare -A qemu=(
    [aarch64-unknown-linux-gnu]=aarch64
    [armv7-unknown-linux-gnueabihf]=arm
    [riscv64gc-unknown-linux-gnu]=riscv64
    [s390x-unknown-linux-gnu]=s390x
)

# ---------------------------------------------------------------------------------------------
usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "matrix: $*" >&2; exit 2; }
say() { echo "== $*"; }

cycles=2000000
install=1
verbose=0
requested=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cycles) [ $# -ge 2 ] || die "--cycles needs a number"; cycles=$2; shift 2 ;;
        --cycles=*) cycles=${1#*=}; shift ;;
        --no-install) install=0; shift ;;
        -v | --verbose) verbose=1; shift ;;
        -h | --help) usage 0 ;;
        all) requested+=("${all_targets[@]}"); shift ;;
        run | build | desktop)
            for t in "${all_targets[@]}"; do
                if { [ "$1" = run ] && [ "${kind[$t]}" = run ]; } || { [ "$1" = build ] && [ "${kind[$t]}" != run ]; } \
                    || { [ "$1" = desktop ] && [ "${kind[$t]}" = desktop ]; }; then
                    requested+=("$t")
                fi
            done
            shift ;;
        -*) echo "matrix: unknown option $1" >&2; usage 2 ;;
        *) [ -n "${kind[$1]:-}" ] || die "unknown target $1 (known: ${all_targets[*]})"; requested+=("$1"); shift ;;
    esac
done
[[ "$cycles" =~ ^[0-9]+$ ]] || die "--cycles: not a number: $cycles"
[ ${#requested[@]} -gt 0 ] || requested=("${all_targets[@]}")
# The native target first (it is the reference), then the others in the order of all_targets,
# each once.
targets=("$native")
for t in "${all_targets[@]}"; do
    [ "$t" = "$native" ] && continue
    for r in "${requested[@]}"; do
        if [ "$r" = "$t" ]; then targets+=("$t"); break; fi
    done
done

host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
[ "$host" = "$native" ] || die "this script drives qemu and wine from an x86_64 Linux host; this host is '${host:-unknown}'"

images=${ST80_IMAGES:-$root/../shared/images}
case "$images" in /*) ;; *) images=$root/$images ;; esac
images=$(cd "$images" 2>/dev/null && pwd) || die "ST80_IMAGES: no such directory: ${ST80_IMAGES:-$root/../shared/images} (see images/README.md; images/fetch.sh fetches them)"
be_image=$images/xerox-v2/VirtualImage
le_image=$images/dbanay/VirtualImageLSB
for f in "$be_image" "$le_image"; do
    [ -f "$f" ] || die "missing test image $f (see images/README.md; images/fetch.sh fetches them)"
done

target_dir=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target_dir
work=$target_dir/matrix
mkdir -p "$work"
# Lean builds: the dev profile (opt-level 1, from Cargo.toml) without debug info, no incremental
# caches. Release (thin LTO, one codegen unit) costs more to build for 9 targets than it saves
# in emulated run time (2M cycles take ~0.1 s natively, a few seconds under qemu).
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

# ---------------------------------------------------------------------------------------------
# Installing what the targets need.
sudo=
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo -n"; fi
fi

apt_updated=0
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$install" = 1 ] || { echo "matrix: missing packages (--no-install): ${missing[*]}" >&2; return 1; }
    command -v apt-get >/dev/null || { echo "matrix: missing packages ${missing[*]} and no apt-get to install them" >&2; return 1; }
    say "apt-get install ${missing[*]}"
    if [ "$apt_updated" = 0 ]; then
        $sudo apt-get update -qq >"$work/apt-update.log" 2>&1 || { tail -5 "$work/apt-update.log"; return 1; }
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >"$work/apt-install.log" 2>&1 || { tail -20 "$work/apt-install.log"; return 1; }
}

installed_targets=$(rustup target list --installed 2>/dev/null)
ensure_rust_target() {
    grep -qx "$1" <<<"$installed_targets" && return 0
    [ "$install" = 1 ] || { echo "matrix: Rust target $1 not installed (--no-install)" >&2; return 1; }
    say "rustup target add $1"
    rustup target add "$1" >"$work/rustup-$1.log" 2>&1 || { grep -m3 -i error "$work/rustup-$1.log"; return 1; }
    installed_targets+=$'\n'"$1"
}

# The rust-std of a target, or, when rustup has none for it (arm-unknown-linux-gnueabihf is not
# shipped with Rust 1.95), the standard library's source for -Zbuild-std. Prints "std" or
# "build-std".
std_for() {
    if grep -qx "$1" <<<"$installed_targets" || { [ "$install" = 1 ] && rustup target add "$1" >"$work/rustup-$1.log" 2>&1; }; then
        installed_targets+=$'\n'"$1"
        echo std
        return 0
    fi
    if rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
        echo build-std
        return 0
    fi
    [ "$install" = 1 ] && rustup component add rust-src >"$work/rustup-rust-src.log" 2>&1 && { echo build-std; return 0; }
    return 1
}

wine_ready=0
setup_wine() {
    [ "$wine_ready" = 1 ] && return 0
    # `wine` (the launcher) picks wine64 when there is no 32-bit Wine; WINEDEBUG=-all also
    # silences its "wine32 is missing" hint.
    export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEPREFIX="$work/wineprefix"
    local wine
    wine=$(command -v wine || command -v wine64 || echo /usr/lib/wine/wine64)
    [ -x "$wine" ] || { echo "matrix: no wine executable found" >&2; return 1; }
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$wine
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        say "creating the Wine prefix $WINEPREFIX"
        rm -rf "$WINEPREFIX"
        "$wine" wineboot --init >"$work/wineboot.log" 2>&1 || { tail -5 "$work/wineboot.log"; return 1; }
        wineserver -w 2>/dev/null || true
    fi
    local sys32=$WINEPREFIX/drive_c/windows/system32
    if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
        # Wine < 9 lacks the DLL Rust's std imports ProcessPrng from; see the .c file.
        say "Wine lacks bcryptprimitives.dll: installing a stub built from ci/wine-bcryptprimitives.c"
        x86_64-w64-mingw32-gcc -O2 -shared -o "$sys32/bcryptprimitives.dll" \
            "$root/ci/wine-bcryptprimitives.c" -ladvapi32 || return 1
    fi
    wine_ready=1
}
stop_wine() {
    if [ "$wine_ready" = 1 ]; then wineserver -k >/dev/null 2>&1 || true; fi
}
trap stop_wine EXIT

# ---------------------------------------------------------------------------------------------
# SDL2 for the desktop rows.
#
# Linux (arm64, armhf): Debian's libsdl2-dev:ARCH and the run-time libraries libSDL2 needs (the
# Depends closure of libsdl2-2.0-0:ARCH, less libc6 and libgcc-s1, which the cross toolchain
# has), fetched with `apt-get download` and unpacked with `dpkg -x` into $work/sysroot-ARCH; ld
# finds libSDL2's own dependencies there through -rpath-link. Nothing is installed into the
# system: `apt-get install libsdl2-dev:arm64` next to the host's libsdl2-dev:amd64 needs every
# Multi-Arch: same library (libexpat1, libssl3, liblzma5, ...) at the very same version on both
# architectures, which fails whenever the host has newer updates than the mirror's arm64/armhf
# indexes (it did on Debian 12 here). apt only has to know the architecture's packages, so the
# architecture is added to dpkg's list (dpkg --add-architecture) for the download and removed
# again afterwards when the script added it: left in place, every later `apt-get update` would
# fetch that architecture's indexes too, and fail whenever one of them is mid-sync.
#
# Windows: SDL2.dll from PyPI's pysdl2-dll wheel for win_amd64 (the SDL2 release DLL); MinGW's
# ld links against a DLL directly (-lSDL2 finds SDL2.dll), and a small sdl2.pc tells sdl2-sys's
# pkg-config probe where it is.
pysdl2_dll_version=2.32.10
sdl_sysroot() { echo "$work/sysroot-${debarch[$1]}"; }
# The sysroot's directories of shared libraries (libpulse keeps its private library in
# pulseaudio/), for ld's -rpath-link and for LD_LIBRARY_PATH under qemu.
sdl_libdirs() {
    local s g=${gnu[$1]}
    s=$(sdl_sysroot "$1")
    echo "$s/usr/lib/$g:$s/lib/$g:$s/usr/lib/$g/pulseaudio"
}
# The Linux desktop rows' link flags. The runnable row of the same triple gets the very same
# flags (they change nothing there), so both rows share one build of everything but st80
# itself. (A RUSTFLAGS in the environment overrides them; a CARGO_TARGET_<T>_RUSTFLAGS is
# kept and extended.)
declare -A target_rustflags
for t in "${all_targets[@]}"; do
    [ "${kind[$t]}" = desktop ] || continue
    b=${t%+desktop}
    [ -n "${gnu[$b]:-}" ] || continue
    v=CARGO_TARGET_$(echo "$b" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
    target_rustflags[$b]="${!v:+${!v} }-C link-arg=-Wl,-rpath-link,$(sdl_libdirs "$b")"
done

# apt-get update at most once per run; an error in one index (a mirror mid-sync) is reported
# but not fatal: the callers check that what they need is there.
apt_update_once() {
    [ "$apt_updated" = 1 ] && return 0
    say "apt-get update"
    $sudo apt-get update -qq >"$work/apt-update.log" 2>&1 \
        || grep '^E:' "$work/apt-update.log" | head -3 | sed 's/^/   apt-get update: /'
    apt_updated=1
}

# Fills $work/sysroot-ARCH for Linux target $1 (once).
ensure_sdl_sysroot() {
    local t=$1 a=${debarch[$1]} s status
    s=$(sdl_sysroot "$t")
    [ -f "$s/.complete" ] && return 0
    [ "$install" = 1 ] || { echo "matrix: no SDL2 sysroot $s (--no-install)" >&2; return 1; }
    if dpkg --print-foreign-architectures | grep -qx "$a"; then
        fetch_sdl_sysroot "$t"
        return
    fi
    say "dpkg --add-architecture $a (until SDL2 is downloaded)"
    $sudo dpkg --add-architecture "$a" || return 1
    apt_updated=0
    fetch_sdl_sysroot "$t"
    status=$?
    $sudo dpkg --remove-architecture "$a" || echo "matrix: dpkg --remove-architecture $a failed" >&2
    apt_updated=0
    return "$status"
}
fetch_sdl_sysroot() {
    local t=$1 a=${debarch[$1]} s pkgs try log=$work/sysroot-${debarch[$1]}.log
    s=$(sdl_sysroot "$t")
    apt-cache show "libsdl2-dev:$a" >/dev/null 2>&1 || apt_update_once
    rm -rf "$s" "$s.debs"
    mkdir -p "$s.debs"
    for try in 1 2; do
        pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                --no-replaces --no-enhances "libsdl2-2.0-0:$a" 2>/dev/null \
            | grep -x "[a-z0-9][a-z0-9.+-]*:$a" | grep -v -e "^libc6:" -e "^libgcc-s1:" | sort -u)
        if [ -n "$pkgs" ]; then
            say "apt-get download libsdl2-dev:$a and the $(wc -l <<<"$pkgs") packages libSDL2 needs at run time into $s"
            # shellcheck disable=SC2086 # one package name a line
            (cd "$s.debs" && apt-get download -q "libsdl2-dev:$a" $pkgs) >"$log" 2>&1 && break
        fi
        # Stale package lists (a version gone from the mirror): update once and try again.
        if [ "$try" = 1 ] && [ "$apt_updated" = 0 ]; then apt_update_once; continue; fi
        echo "matrix: could not download SDL2 for $a (log: $log)" >&2
        grep -E '^(E|Err):' "$log" | head -5 | sed 's/^/   | /' >&2
        return 1
    done
    local deb
    for deb in "$s.debs"/*.deb; do
        dpkg -x "$deb" "$s" || { echo "matrix: dpkg -x $deb failed" >&2; return 1; }
    done
    [ -f "$s/usr/lib/${gnu[$t]}/pkgconfig/sdl2.pc" ] || { echo "matrix: $s has no sdl2.pc" >&2; return 1; }
    printf '%s\n' "libsdl2-dev:$a" "$pkgs" >"$s/.complete"
    rm -rf "$s.debs"
}

# Fetches SDL2.dll into $work/sdl2-windows and writes an sdl2.pc for it (once).
ensure_sdl_windows() {
    local d=$work/sdl2-windows whl
    [ -f "$d/SDL2.dll" ] && [ -f "$d/pkgconfig/sdl2.pc" ] && return 0
    [ "$install" = 1 ] || { echo "matrix: no SDL2.dll in $d (--no-install)" >&2; return 1; }
    python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip || return 1
    say "pip download pysdl2-dll==$pysdl2_dll_version (SDL2.dll for win_amd64) into $d"
    rm -rf "$d"
    mkdir -p "$d/pkgconfig"
    python3 -m pip download --no-deps --only-binary=:all: --platform win_amd64 -d "$d" \
        "pysdl2-dll==$pysdl2_dll_version" >"$work/pip-pysdl2-dll.log" 2>&1 \
        || { tail -5 "$work/pip-pysdl2-dll.log" | sed 's/^/   | /' >&2; return 1; }
    whl=$(find "$d" -maxdepth 1 -name 'pysdl2_dll-*win_amd64.whl' | head -1)
    [ -n "$whl" ] || { echo "matrix: pip downloaded no pysdl2-dll wheel for win_amd64" >&2; return 1; }
    python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("sdl2dll/dll/SDL2.dll"))' \
        "$whl" "$d/SDL2.dll.tmp" || return 1
    cat >"$d/pkgconfig/sdl2.pc" <<EOF
# SDL2.dll from pysdl2-dll $pysdl2_dll_version (written by ci/matrix.sh)
libdir=$d
Name: sdl2
Description: SDL2 for x86_64-pc-windows-gnu (MinGW links the DLL directly)
Version: $pysdl2_dll_version
Libs: -L\${libdir} -lSDL2
Cflags:
EOF
    rm -f "$whl"
    mv "$d/SDL2.dll.tmp" "$d/SDL2.dll"
}

# The desktop row of triple $1: SDL2 for it, and pkg-config pointed at it (and only at it: the
# host's sdl2.pc must not be found).
prepare_desktop() {
    local b=$1 u=${1//-/_}
    ensure_packages pkg-config || return 1
    case "$b" in
        x86_64-pc-windows-gnu)
            ensure_sdl_windows || return 1
            export "PKG_CONFIG_ALLOW_CROSS_$u=1" "PKG_CONFIG_PATH_$u=" \
                "PKG_CONFIG_LIBDIR_$u=$work/sdl2-windows/pkgconfig" ;;
        *)
            ensure_sdl_sysroot "$b" || return 1
            local s
            s=$(sdl_sysroot "$b")
            export "PKG_CONFIG_SYSROOT_DIR_$u=$s" "PKG_CONFIG_PATH_$u=" \
                "PKG_CONFIG_LIBDIR_$u=$s/usr/lib/${gnu[$b]}/pkgconfig" ;;
    esac
}

# Checks that the desktop st80 of triple $1 imports SDL2 and starts: `st80 --help` under qemu
# with the sysroot's libraries and every symbol bound at start-up (LD_BIND_NOW), or under Wine
# with SDL2.dll beside st80.exe (as a Windows user would have it).
desktop_start_check() {
    local b=$1 exe=$target_dir/$1/debug/st80 log=$work/$1+desktop-start.log
    case "$b" in
        x86_64-pc-windows-gnu)
            exe=$exe.exe
            # (grep without -q: under pipefail, -q's early exit would fail objdump with SIGPIPE)
            x86_64-w64-mingw32-objdump -p "$exe" | grep 'DLL Name: SDL2.dll' >/dev/null \
                || { echo "   FAILED: $exe does not import SDL2.dll"; return 1; }
            cp -p "$work/sdl2-windows/SDL2.dll" "$(dirname "$exe")/" || return 1
            # shellcheck disable=SC2086 # the runner is a command line
            $runner "$exe" --help >"$log" 2>&1 ;;
        *)
            "${gnu[$b]}-readelf" -d "$exe" | grep 'NEEDED.*\[libSDL2-2\.0\.so\.0\]' >/dev/null \
                || { echo "   FAILED: $exe does not link libSDL2-2.0.so.0"; return 1; }
            # shellcheck disable=SC2086
            $runner -E "LD_LIBRARY_PATH=$(sdl_libdirs "$b")" -E LD_BIND_NOW=1 "$exe" --help >"$log" 2>&1 ;;
    esac
    local status=$?
    if [ "$status" != 0 ] || ! grep -q '^Usage: st80' "$log"; then
        echo "   FAILED ($status): st80 --help on $b (log: $log)"
        tail -n 5 "$log" | sed 's/^/   | /'
        return 1
    fi
}

# Installs what target $1 needs and sets its linker and runner (in $runner, may be empty).
runner=
build_std=0
prepare() {
    local t=$1 T
    if [[ "$t" == *+desktop ]]; then
        prepare "${t%+desktop}" && prepare_desktop "${t%+desktop}"
        return
    fi
    T=$(echo "$t" | tr 'a-z-' 'A-Z_')
    runner=
    build_std=0
    case "$t" in
        "$native") ;;
        x86_64-pc-windows-gnu)
            ensure_packages gcc-mingw-w64-x86-64 wine wine64 || return 1
            ensure_rust_target "$t" || return 1
            export "CARGO_TARGET_${T}_LINKER=x86_64-w64-mingw32-gcc"
            setup_wine || return 1
            runner=$CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER ;;
        *-apple-darwin)
            ensure_rust_target "$t" || return 1 ;;
        arm-unknown-linux-gnueabihf)
            ensure_packages "gcc-${gnu[$t]}" "libc6-dev-${debarch[$t]}-cross" || return 1
            local how
            how=$(std_for "$t") || { echo "matrix: no rust-std and no rust-src for $t" >&2; return 1; }
            [ "$how" = build-std ] && build_std=1
            export "CARGO_TARGET_${T}_LINKER=${gnu[$t]}-gcc" ;;
        *)
            ensure_packages qemu-user "gcc-${gnu[$t]}" "libc6-dev-${debarch[$t]}-cross" || return 1
            ensure_rust_target "$t" || return 1
            export "CARGO_TARGET_${T}_LINKER=${gnu[$t]}-gcc"
            runner="qemu-${qemu[$t]} -L /usr/${gnu[$t]}"
            export "CARGO_TARGET_${T}_RUNNER=$runner"
            if [ -n "${target_rustflags[$t]:-}" ]; then export "CARGO_TARGET_${T}_RUSTFLAGS=${target_rustflags[$t]}"; fi ;;
    esac
}

# Runs a command with its output in $work/<log>.log (and on the terminal with -v); on failure
# shows the end of the log.
logged() {
    local log=$work/$1.log
    shift
    if [ "$verbose" = 1 ]; then
        "$@" 2>&1 | tee "$log"
    else
        "$@" >"$log" 2>&1
    fi
    local status=${PIPESTATUS[0]}
    if [ "$status" != 0 ]; then
        echo "   FAILED ($status): $*  (log: $log)"
        tail -n 25 "$log" | sed 's/^/   | /'
    fi
    return "$status"
}

# Sums "test result: ... N passed; M failed" lines of a cargo test log: prints "P/F".
count_tests() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } }
         END { printf "%d/%d", p, f }' "$1"
}

# Runs the st80 binary of target $1 on image $2; prints "HASH PNGSHA" or fails. The display
# hash comes from the file `--hash-out` writes (16 hex digits), not from the summary on stderr.
display_check() {
    local t=$1 image=$2 tag=$3 exe png hash_file out
    exe=$target_dir/$t/debug/st80
    [ "$t" = x86_64-pc-windows-gnu ] && exe=$exe.exe
    png=$work/$t-$tag.png
    hash_file=$work/$t-$tag.hash
    rm -f "$png" "$hash_file"
    # shellcheck disable=SC2086 # the runner is a command line
    out=$($runner "$exe" run "$image" --headless --cycles "$cycles" --screenshot "$png" --hash-out "$hash_file" 2>&1)
    local status=$?
    echo "$out" >"$work/$t-$tag.log"
    local hash png_sha
    hash=$(tr -d '\r\n' <"$hash_file" 2>/dev/null)
    if [ "$status" != 0 ] || [ ! -s "$png" ] || ! [[ $hash =~ ^[0-9a-f]{16}$ ]]; then
        echo "   FAILED ($status): st80 run $image on $t (hash '${hash}'):" >&2
        tail -n 5 <<<"$out" | sed 's/^/   | /' >&2
        return 1
    fi
    png_sha=$(sha256sum "$png" | cut -c1-64)
    echo "$hash $png_sha"
}

# ---------------------------------------------------------------------------------------------
declare -A r_tests r_hash r_le r_png r_secs r_status
ref_hash=""
ref_png=""
failures=0
started=$SECONDS
say "targets: ${targets[*]}"
say "images: $images; $cycles cycles; CARGO_TARGET_DIR=$target_dir"

for t in "${targets[@]}"; do
    t0=$SECONDS
    k=${kind[$t]}
    r_tests[$t]=-; r_hash[$t]=-; r_le[$t]=-; r_png[$t]=-; r_status[$t]=ok
    say "$t (${about[$t]})"
    if ! prepare "$t"; then
        r_status[$t]="FAIL: setup"
    else
        case "$k" in
        desktop)
            b=${t%+desktop}
            if ! logged "$t-build" cargo build -p st80-cli --target "$b"; then
                r_status[$t]="FAIL: build"
            elif desktop_start_check "$b"; then
                r_tests[$t]="SDL2 loads"
            else
                r_status[$t]="FAIL: st80 --help"
            fi
            ;;
        check)
            logged "$t-check" cargo check -p st80-core -p st80-headless --target "$t" || r_status[$t]="FAIL: check"
            ;;
        link)
            if [ "$build_std" = 1 ]; then
                # No rust-std from rustup for this target: build the standard library from
                # source (RUSTC_BOOTSTRAP lets the stable toolchain take -Zbuild-std). In a
                # target dir of its own: proc-macro2's build script reruns whenever
                # RUSTC_BOOTSTRAP changes, which would rebuild the host macros every time.
                logged "$t-build" env RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$work/build-std" \
                    cargo build -Zbuild-std=std,panic_abort -p st80-cli --no-default-features --target "$t" \
                    || r_status[$t]="FAIL: build"
                r_tests[$t]="(build-std)"
            else
                logged "$t-build" cargo build -p st80-cli --no-default-features --target "$t" || r_status[$t]="FAIL: build"
            fi
            ;;
        run)
            if ! logged "$t-build" cargo build -p st80-cli --no-default-features --target "$t"; then
                r_status[$t]="FAIL: build"
            else
                logged "$t-test" cargo test -p st80-core --target "$t" || r_status[$t]="FAIL: tests"
                r_tests[$t]=$(count_tests "$work/$t-test.log")
                if be=$(display_check "$t" "$be_image" be); then
                    r_hash[$t]=${be%% *}
                    r_png[$t]=${be##* }
                else
                    r_status[$t]="FAIL: st80 run"
                fi
                if le=$(display_check "$t" "$le_image" le); then
                    r_le[$t]=${le%% *}
                else
                    r_status[$t]="FAIL: st80 run"
                fi
                if [ "$t" = "$native" ]; then
                    ref_hash=${r_hash[$t]}
                    ref_png=${r_png[$t]}
                fi
                if [ "${r_status[$t]}" = ok ]; then
                    if [ "${r_hash[$t]}" != "$ref_hash" ] || [ "${r_le[$t]}" != "$ref_hash" ]; then
                        r_status[$t]="FAIL: hash differs from $native"
                    elif [ "${r_png[$t]}" != "$ref_png" ]; then
                        r_status[$t]="FAIL: PNG differs from $native"
                    fi
                fi
            fi
            ;;
        esac
    fi
    r_secs[$t]=$((SECONDS - t0))
    [ "${r_status[$t]}" = ok ] || failures=$((failures + 1))
    echo "   ${r_status[$t]} (${r_secs[$t]} s)"
done

# ---------------------------------------------------------------------------------------------
echo
echo "display after $cycles cycles: hash of xerox-v2/VirtualImage (big-endian) and of"
echo "dbanay/VirtualImageLSB (little-endian); PNG = sha256 of the screenshot"
fmt='%-37s %-30s %-11s %-16s %-16s %-12s %5s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" target "what" "tests p/f" "display hash" "LE image hash" "PNG sha256" secs result
# shellcheck disable=SC2059
printf "$fmt" "$(printf '%.0s-' {1..37})" "$(printf '%.0s-' {1..30})" ----------- ---------------- ---------------- ------------ ----- ------
for t in "${targets[@]}"; do
    png=${r_png[$t]}
    [ "$png" != - ] && png=${png:0:12}
    # shellcheck disable=SC2059
    printf "$fmt" "$t" "${about[$t]}" "${r_tests[$t]}" "${r_hash[$t]}" "${r_le[$t]}" "$png" "${r_secs[$t]}" "${r_status[$t]}"
done
echo
echo "total: $((SECONDS - started)) s"
echo "matrix: $((${#targets[@]} - failures)) passed, $failures failed"
[ "$failures" = 0 ]
