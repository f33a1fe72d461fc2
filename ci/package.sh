#!/usr/bin/env bash
# Build the release artifacts of st80 locally, as the release workflow does, and check them.
#
#   ci/package.sh [--profile release|dev] [ARTIFACT...]
#   ci/package.sh check
#
# ARTIFACT (default: all of them), written to $CARGO_TARGET_DIR/package/ (default target/package):
#   deb-amd64 deb-arm64 deb-armhf   st80_VERSION-1_ARCH.deb (cargo-deb): the desktop st80 with
#                                   `Depends: libsdl2-2.0-0`, a desktop entry and an icon; the
#                                   amd64 one profile-guided (ci/pgo.sh: trained on the image)
#   windows                         st80-VERSION-windows-x86_64.zip: st80.exe and SDL2.dll
#   tar-x86_64 tar-aarch64 tar-armv7 tar-armv6 tar-riscv64
#                                   st80-VERSION-linux-NAME.tar.gz: a static (musl) st80 without
#                                   the window (run --headless, eval, fetch, ...), built with
#                                   cargo-zigbuild and zig; tar-armv6 runs on a Pi Zero/1
#   desktop-armv6                   st80-VERSION-linux-armv6-desktop.tar.gz: the desktop st80 for
#                                   32-bit Raspberry Pi OS on a Pi Zero/1 (ARMv6, glibc 2.31+),
#                                   SDL2 built from source for ARMv6 and linked in (zig, cmake)
#   bundled-aarch64                 not an artifact, a check: the desktop st80 for aarch64 with
#                                   the feature `bundled-sdl` (SDL2 built from source by cmake and
#                                   linked statically, as `cross` would build it), started under
#                                   qemu (not part of `all`: building SDL2 takes minutes)
#
# Every artifact is checked after it is built: a .deb is unpacked into a scratch root (dpkg -x),
# its Depends names libSDL2, and its st80 runs the Xerox image headless (under qemu for arm64
# and armhf, with the Debian libraries of the matrix's sysroot); a tarball's st80 runs it under
# qemu-user (tar-armv6 with `qemu-arm -cpu arm1176`, an ARMv6 CPU, and its ELF attributes say
# ARMv6); both must draw the display hash of the native x86_64 run. The zip must hold st80.exe
# importing SDL2.dll, and SDL2.dll. The ARMv6 desktop must be an ARMv6 (readelf -A), hard-float
# EABI5 executable linking only glibc, with SDL's X11 and KMS/DRM drivers in it; it draws the
# display hash under qemu-arm with Debian's armhf glibc (ARMv7: the loader needs a v7 CPU, so
# not `-cpu arm1176`), and, when deb-armhf's sysroot is there, opens its window on Xvfb.
#
# `check` (what .ci/run calls) builds the artifacts in the dev profile (deb-amd64: release, PGO),
# reusing what ci/matrix.sh built: every one but three of the five static tarballs. Those are
# built in one of two ways, with the prebuilt musl standard library (x86_64, aarch64, riscv64)
# or with std built from source against zig's musl (armv7, armv6); `check` builds one of each,
# tar-x86_64 and tar-armv6 (the Pi Zero's), and leaves tar-aarch64, tar-armv7 and tar-riscv64
# (~390 s of building, a third of the step) to the release workflow, which builds and checks
# all five. Their architectures still run the image in ci/matrix.sh's qemu rows.
# The linker setup for the Debian cross builds (sysroots of Debian's SDL2) comes from
# ci/matrix.sh, which this script runs for the `+desktop` rows it needs when their sysroot is
# missing.
#
# Tools, installed on first use into $CARGO_TARGET_DIR/tools: cargo-deb (crates.io),
# cargo-zigbuild and zig (PyPI: cargo-zigbuild, ziglang). Needs ST80_IMAGES (the Xerox image).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)

CARGO_DEB_VERSION=3.8.0
ZIGBUILD_VERSION=0.24.1
ZIGLANG_VERSION=0.14.1
cycles=2000000

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "package: $*" >&2; exit 2; }
say() { echo "== $*"; }

all=(deb-amd64 deb-arm64 deb-armhf windows tar-x86_64 tar-aarch64 tar-armv7 tar-armv6 tar-riscv64 desktop-armv6)
# (What `check` builds: see above.)
checked=(deb-amd64 deb-arm64 deb-armhf windows tar-x86_64 tar-armv6 desktop-armv6)
profile=release
wanted=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) usage 0 ;;
        --profile) [ $# -ge 2 ] || usage 2; profile=$2; shift 2 ;;
        check) profile=dev; wanted+=("${checked[@]}"); shift ;;
        deb-* | windows | tar-* | desktop-armv6 | bundled-aarch64) wanted+=("$1"); shift ;;
        *) echo "package: unknown argument $1" >&2; usage 2 ;;
    esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("${all[@]}")
case "$profile" in release | dev) ;; *) die "--profile: release or dev" ;; esac
pdir=$profile
[ "$profile" = dev ] && pdir=debug

target_dir=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target_dir
out=$target_dir/package
tools=$target_dir/tools
work=$target_dir/matrix
mkdir -p "$out" "$tools" "$work"
# The matrix's settings, so that dev builds here are the ones it made.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

images=${ST80_IMAGES:-$root/../shared/images}
case "$images" in /*) ;; *) images=$root/$images ;; esac
image=$images/xerox-v2/VirtualImage
[ -f "$image" ] || die "no test image $image (set ST80_IMAGES; see images/README.md)"

sudo=
[ "$(id -u)" = 0 ] || sudo="sudo -n"
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "apt-get install ${missing[*]}"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"; } >"$out/apt.log" 2>&1 || { tail -5 "$out/apt.log"; return 1; }
}

ensure_cargo_deb() {
    cargo_deb=$tools/cargo/bin/cargo-deb
    if [ -x "$cargo_deb" ] && "$cargo_deb" --version | grep -q "$CARGO_DEB_VERSION"; then return 0; fi
    say "cargo install cargo-deb $CARGO_DEB_VERSION (into $tools/cargo)"
    CARGO_TARGET_DIR=$tools/build cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION" \
        --root "$tools/cargo" >"$out/cargo-deb-install.log" 2>&1 || { tail -5 "$out/cargo-deb-install.log"; return 1; }
}

ensure_zigbuild() {
    local venv=$tools/venv
    export PATH=$venv/bin:$PATH
    if [ -x "$venv/bin/cargo-zigbuild" ] && "$venv/bin/python3" -m ziglang version >/dev/null 2>&1; then return 0; fi
    say "pip install cargo-zigbuild==$ZIGBUILD_VERSION ziglang==$ZIGLANG_VERSION (into $venv)"
    python3 -m venv "$venv" >/dev/null 2>&1 || { ensure_packages python3-venv && python3 -m venv "$venv"; } || return 1
    "$venv/bin/pip" install -q "cargo-zigbuild==$ZIGBUILD_VERSION" "ziglang==$ZIGLANG_VERSION" >"$out/pip.log" 2>&1 \
        || { tail -5 "$out/pip.log"; return 1; }
}

# The display hash of `st80 run IMAGE --headless` by command "$@" (st80 and its runner), as
# `--hash-out` writes it; empty if the run failed.
display_hash() {
    rm -f "$out/display.hash"
    "$@" run "$image" --headless --cycles "$cycles" --screenshot "$out/display.png" --hash-out "$out/display.hash" >/dev/null 2>&1 \
        && tr -d '\r\n' <"$out/display.hash"
}

# The reference: the native st80 (release, default features; .ci/run's tests built it).
say "native reference: cargo build --release -p st80-cli"
cargo build --release -q -p st80-cli || die "native build failed"
ref_hash=$(display_hash "$target_dir/release/st80")
[ -n "$ref_hash" ] || die "the native st80 printed no display hash"
echo "   display hash after $cycles cycles: $ref_hash"

# ---------------------------------------------------------------------------------------------
# Debian packages.
declare -A deb_triple=([amd64]=x86_64-unknown-linux-gnu [arm64]=aarch64-unknown-linux-gnu [armhf]=armv7-unknown-linux-gnueabihf)
declare -A deb_gnu=([arm64]=aarch64-linux-gnu [armhf]=arm-linux-gnueabihf)
declare -A deb_qemu=([arm64]=aarch64 [armhf]=arm)

# Sets up the cross build of triple $2 for Debian architecture $1 against the matrix's sysroot.
cross_env() {
    local a=$1 t=$2 g=${deb_gnu[$1]} T u s libdirs
    T=$(echo "$t" | tr 'a-z-' 'A-Z_')
    u=${t//-/_}
    s=$work/sysroot-$a
    if [ ! -f "$s/.complete" ] || ! command -v "$g-gcc" >/dev/null; then
        say "ci/matrix.sh $t+desktop (cross compiler and the SDL2 sysroot $s)"
        bash ci/matrix.sh "$t+desktop" >"$out/matrix-$a.log" 2>&1 || { tail -15 "$out/matrix-$a.log"; return 1; }
    fi
    libdirs="$s/usr/lib/$g:$s/lib/$g:$s/usr/lib/$g/pulseaudio"
    export "CARGO_TARGET_${T}_LINKER=$g-gcc" "PKG_CONFIG_SYSROOT_DIR_$u=$s" "PKG_CONFIG_PATH_$u=" \
        "PKG_CONFIG_LIBDIR_$u=$s/usr/lib/$g/pkgconfig" \
        "CARGO_TARGET_${T}_RUSTFLAGS=-C link-arg=-Wl,-rpath-link,$libdirs"
    cross_libdirs=$libdirs
}

# The package icon (packaging/st80.png, not in git): a speech balloon with "st80", drawn here
# with ImageMagick (ci/desktop-deps.sh installs it), so the package carries only our own art.
ensure_icon() {
    local icon=packaging/st80.png
    [ -f "$icon" ] && return 0
    command -v convert >/dev/null || { echo "package: ImageMagick's convert is needed to draw $icon" >&2; return 1; }
    local balloon=(-size 128x128 xc:white -fill none -stroke black -strokewidth 6
        -draw "ellipse 64,54 54,42 0,360" -draw "polyline 40,90 30,120 64,94")
    # The text needs a font; without DejaVu the balloon alone is the icon.
    convert "${balloon[@]}" -stroke none -fill black -font DejaVu-Sans-Bold -pointsize 30 \
        -gravity center -annotate +0-10 "st80" "$icon" 2>/dev/null || convert "${balloon[@]}" "$icon"
}

build_deb() {
    local a=$1 t=${deb_triple[$1]} deb scratch runner=() p=$profile
    ensure_cargo_deb || return 1
    ensure_icon || return 1
    local args=(-p st80-cli --strip --fast -o "$out")
    if [ "$a" = amd64 ]; then
        # The native release build, profile-guided (ci/pgo.sh: trained on the Xerox image), in
        # every mode: the display hash below checks that build too.
        say "ci/pgo.sh (a profile-guided release build for $t)"
        bash ci/pgo.sh >"$out/pgo.log" 2>&1 || { tail -15 "$out/pgo.log"; return 1; }
        args+=(--no-build --target "$t")
        p=release
    else
        cross_env "$a" "$t" || return 1
        args+=(--target "$t" --profile "$p")
        runner=("qemu-${deb_qemu[$a]}" -L "/usr/${deb_gnu[$a]}" -E "LD_LIBRARY_PATH=$cross_libdirs")
    fi
    say "cargo deb ${args[*]}"
    "$cargo_deb" "${args[@]}" >"$out/deb-$a.log" 2>&1 || { tail -15 "$out/deb-$a.log"; return 1; }
    deb=$(ls -t "$out"/st80_*_"$a".deb 2>/dev/null | head -1)
    [ -f "$deb" ] || { echo "package: cargo deb wrote no st80_*_$a.deb" >&2; return 1; }
    dpkg-deb -f "$deb" Depends | grep -q 'libsdl2-2.0-0' || { echo "package: $deb: Depends lacks libsdl2-2.0-0" >&2; return 1; }
    dpkg-deb -f "$deb" Architecture | grep -qx "$a" || { echo "package: $deb: wrong Architecture" >&2; return 1; }
    scratch=$out/root-$a
    rm -rf "$scratch"
    dpkg -x "$deb" "$scratch" || return 1
    for f in usr/bin/st80 usr/share/applications/st80.desktop usr/share/icons/hicolor/128x128/apps/st80.png; do
        [ -f "$scratch/$f" ] || { echo "package: $deb has no /$f" >&2; return 1; }
    done
    local readelf=readelf
    [ "$a" = amd64 ] || readelf=${deb_gnu[$a]}-readelf
    $readelf -d "$scratch/usr/bin/st80" | grep -q 'NEEDED.*libSDL2-2\.0\.so\.0' || { echo "package: $deb: st80 does not link libSDL2" >&2; return 1; }
    # The declared libc6 (>= 2.34) must cover every glibc symbol version the binary uses.
    local newest
    newest=$($readelf -V "$scratch/usr/bin/st80" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
    [ "${newest#GLIBC_2.}" -le 34 ] || { echo "package: $deb: needs $newest, Depends says libc6 (>= 2.34)" >&2; return 1; }
    local hash
    hash=$(display_hash "${runner[@]}" "$scratch/usr/bin/st80")
    [ "$hash" = "$ref_hash" ] || { echo "package: $deb: st80 drew hash '${hash:-none}', native $ref_hash" >&2; return 1; }
    echo "   $(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends); st80 runs, hash $hash"
}

# ---------------------------------------------------------------------------------------------
# The Windows zip: st80.exe (MinGW cross build, as ci/matrix.sh's Windows desktop row) + SDL2.dll.
build_windows() {
    local t=x86_64-pc-windows-gnu d=$work/sdl2-windows zipdir exe
    if [ ! -f "$d/SDL2.dll" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
        say "ci/matrix.sh $t+desktop (MinGW, SDL2.dll from PyPI)"
        bash ci/matrix.sh "$t+desktop" >"$out/matrix-windows.log" 2>&1 || { tail -15 "$out/matrix-windows.log"; return 1; }
    fi
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc PKG_CONFIG_ALLOW_CROSS_x86_64_pc_windows_gnu=1 \
        PKG_CONFIG_PATH_x86_64_pc_windows_gnu= PKG_CONFIG_LIBDIR_x86_64_pc_windows_gnu=$d/pkgconfig
    say "cargo build --profile $profile -p st80-cli --target $t"
    cargo build --profile "$profile" -p st80-cli --target "$t" >"$out/windows.log" 2>&1 || { tail -15 "$out/windows.log"; return 1; }
    exe=$target_dir/$t/$pdir/st80.exe
    x86_64-w64-mingw32-objdump -p "$exe" | grep 'DLL Name: SDL2.dll' >/dev/null || { echo "package: $exe does not import SDL2.dll" >&2; return 1; }
    zipdir=$out/st80-$version-windows-x86_64
    rm -rf "$zipdir" "$zipdir.zip"
    mkdir -p "$zipdir"
    cp "$exe" "$d/SDL2.dll" README.md "$zipdir/"
    x86_64-w64-mingw32-strip "$zipdir/st80.exe"
    (cd "$out" && python3 -m zipfile -c "$(basename "$zipdir").zip" "$(basename "$zipdir")") || return 1
    rm -rf "$zipdir"
    # (The listing is read whole: `grep -q` closing the pipe early would fail the check.)
    local listing
    listing="$(python3 -m zipfile -l "$zipdir.zip")" || return 1
    grep -q '/SDL2.dll' <<<"$listing" || { echo "package: the zip has no SDL2.dll" >&2; return 1; }
    echo "   $(basename "$zipdir.zip"): st80.exe (imports SDL2.dll), SDL2.dll, README.md"
}

# ---------------------------------------------------------------------------------------------
# Static Linux tarballs (musl, cargo-zigbuild): no SDL2, so no window; everything else.
declare -A tar_triple=([x86_64]=x86_64-unknown-linux-musl [aarch64]=aarch64-unknown-linux-musl
    [armv7]=armv7-unknown-linux-musleabihf [armv6]=arm-unknown-linux-musleabihf [riscv64]=riscv64gc-unknown-linux-musl)
declare -A tar_runner=([x86_64]="" [aarch64]="qemu-aarch64" [armv7]="qemu-arm -cpu cortex-a7"
    [armv6]="qemu-arm -cpu arm1176" [riscv64]="qemu-riscv64")

build_tar() {
    local n=$1 t=${tar_triple[$1]} T exe dir tdir build=(cargo zigbuild)
    ensure_zigbuild || return 1
    [ -z "${tar_runner[$n]}" ] || ensure_packages qemu-user || return 1
    T=$(echo "$t" | tr 'a-z-' 'A-Z_')
    tdir=$target_dir
    if ! rustup target list --installed | grep -qx "$t" && ! rustup target add "$t" >"$out/rustup-$t.log" 2>&1; then
        # No prebuilt standard library for this target (Rust ships none for the ARM musl
        # targets): build it from source with zig's musl and start files (rustc's
        # self-contained ones come with the prebuilt library only), in a target dir of its own
        # (RUSTC_BOOTSTRAP would rebuild the host's proc macros in the shared one).
        rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src >/dev/null 2>&1 \
            || { echo "package: no rust-std and no rust-src for $t" >&2; return 1; }
        build=(env RUSTC_BOOTSTRAP=1 "CARGO_TARGET_${T}_RUSTFLAGS=-C link-self-contained=no" cargo zigbuild
            -Zbuild-std=std,panic_abort)
        tdir=$out/build-std
    fi
    say "cargo zigbuild --profile $profile -p st80-cli --no-default-features --features fetch --target $t"
    CARGO_TARGET_DIR=$tdir "${build[@]}" --profile "$profile" -p st80-cli --no-default-features --features fetch \
        --target "$t" >"$out/tar-$n.log" 2>&1 || { tail -15 "$out/tar-$n.log"; return 1; }
    exe=$tdir/$t/$pdir/st80
    dir=$out/st80-$version-linux-$n
    rm -rf "$dir" "$dir.tar.gz"
    mkdir -p "$dir"
    cp "$exe" README.md "$dir/"
    # (zig's llvm-objcopy strips every architecture)
    python3 -m ziglang objcopy --strip-debug "$dir/st80" 2>/dev/null || true
    tar -C "$out" -czf "$dir.tar.gz" "$(basename "$dir")" || return 1
    file "$dir/st80" | grep -qE 'statically linked|static-pie linked' || { echo "package: $dir/st80 is not static" >&2; return 1; }
    if [ "$n" = armv6 ]; then
        # Every object, C start-up files and musl included, must be ARMv6 code (a Pi Zero/1).
        readelf -A "$dir/st80" | grep -q 'Tag_CPU_arch: v6$' \
            || { echo "package: $dir/st80 is not ARMv6: $(readelf -A "$dir/st80" | grep Tag_CPU_arch)" >&2; return 1; }
    fi
    local hash
    # shellcheck disable=SC2086 # the runner is a command line
    hash=$(display_hash ${tar_runner[$n]} "$dir/st80")
    [ "$hash" = "$ref_hash" ] || { echo "package: $dir/st80 drew hash '${hash:-none}', native $ref_hash" >&2; return 1; }
    rm -rf "$dir"
    echo "   $(basename "$dir").tar.gz: static, ${tar_runner[$n]:-native} runs it, hash $hash"
}

# ---------------------------------------------------------------------------------------------
# The desktop st80 for 32-bit Raspberry Pi OS on ARMv6 (Pi Zero, Zero W, 1): Debian's armhf, its
# libSDL2 included, is ARMv7, so this is `arm-unknown-linux-gnueabihf` (ARMv6, VFPv2, hard float)
# linked by zig (cargo-zigbuild: `-mcpu` ARMv6, glibc start files compiled for it, glibc 2.31
# symbols so that Bullseye runs it too), with the feature `bundled-sdl`: SDL2 compiled from
# source by zig for ARMv6 and linked in. SDL loads X11, KMS/DRM (libdrm, libgbm), EGL and udev
# with dlopen at run time, from the Pi's own system; at build time it needs only their headers,
# which are the same for every architecture, so the host's are used (through a root holding
# nothing else, so that no host library or C header leaks into the ARM build).
desktop_glibc=2.31
build_desktop_armv6() {
    local t=arm-unknown-linux-gnueabihf tdir=$out/build-std sdl=$out/sdl-armv6 exe dir h
    ensure_zigbuild || return 1
    ensure_packages cmake qemu-user binutils-arm-linux-gnueabihf libc6-armhf-cross libx11-dev libxext-dev \
        libxcursor-dev libxi-dev libxfixes-dev libxrandr-dev libxrender-dev libxss-dev libdrm-dev libgbm-dev \
        libegl-dev libudev-dev || return 1
    rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src >/dev/null 2>&1 \
        || { echo "package: building std for $t needs rust-src" >&2; return 1; }
    rm -rf "$sdl"
    mkdir -p "$sdl/usr/include" "$sdl/pkgconfig"
    for h in X11 libdrm xf86drm.h xf86drmMode.h gbm.h EGL KHR libudev.h; do
        [ -e "/usr/include/$h" ] || { echo "package: no /usr/include/$h (headers for SDL's drivers)" >&2; return 1; }
        ln -s "/usr/include/$h" "$sdl/usr/include/$h"
    done
    # pkg-config files for the KMS/DRM driver's check: headers only, the libraries are dlopened.
    local pc
    for pc in "libdrm -I$sdl/usr/include/libdrm" gbm egl; do
        printf 'Name: %s\nDescription: headers for SDL (loaded at run time)\nVersion: 99\nCflags: -I%s %s\nLibs: -l%s\n' \
            "${pc%% *}" "$sdl/usr/include" "$(echo "$pc" | cut -s -d' ' -f2)" "${pc%% *}" >"$sdl/pkgconfig/${pc%% *}.pc"
    done
    # SDL's cmake takes each library's soname from the file it finds; these are the sonames of
    # Raspberry Pi OS (and Debian), which SDL dlopens, so nothing is linked against them.
    cat >"$sdl/toolchain.cmake" <<CMAKE
include("\$ENV{CMAKE_TOOLCHAIN_FILE_arm_unknown_linux_gnueabihf}")
list(APPEND CMAKE_FIND_ROOT_PATH "$sdl")
set(ENV{PKG_CONFIG_LIBDIR} "$sdl/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})
foreach(lib X11.so.6 Xext.so.6 Xcursor.so.1 Xi.so.6 Xfixes.so.3 Xrandr.so.2 Xrender.so.1 Xss.so.1 drm.so.2 gbm.so.1)
    string(REGEX REPLACE "[.]so[.].*" "" name "\${lib}")
    string(TOUPPER "\${name}_LIB" var)
    set(\${var} "lib\${lib}" CACHE FILEPATH "" FORCE)
endforeach()
# SDL's checks for these Xlib features link a test program with libX11, which is not here: they
# are in every Xlib since 2010 (libX11 1.3, libXi 1.5, libXfixes 5), so in every Raspberry Pi OS.
foreach(have HAVE_XGENERICEVENT SDL_VIDEO_DRIVER_X11_HAS_XKBKEYCODETOKEYSYM HAVE_XINPUT2_MULTITOUCH HAVE_XFIXES_H)
    set(\${have} 1 CACHE INTERNAL "")
endforeach()
set(SDL_X11_SHARED ON CACHE BOOL "" FORCE)
set(SDL_KMSDRM_SHARED ON CACHE BOOL "" FORCE)
set(SDL_WAYLAND OFF CACHE BOOL "" FORCE)
set(SDL_LIBSAMPLERATE OFF CACHE BOOL "" FORCE)
set(SDL_TEST OFF CACHE BOOL "" FORCE)
set(SDL_VULKAN OFF CACHE BOOL "" FORCE)
CMAKE
    say "cargo zigbuild -Zbuild-std --profile $profile -p st80-cli --features bundled-sdl --target $t.$desktop_glibc"
    CARGO_TARGET_DIR=$tdir SDL2_TOOLCHAIN=$sdl/toolchain.cmake RUSTC_BOOTSTRAP=1 \
        cargo zigbuild -Zbuild-std=std,panic_abort --profile "$profile" -p st80-cli --features bundled-sdl \
        --target "$t.$desktop_glibc" >"$out/desktop-armv6.log" 2>&1 || { tail -15 "$out/desktop-armv6.log"; return 1; }
    exe=$tdir/$t/$pdir/st80
    dir=$out/st80-$version-linux-armv6-desktop
    rm -rf "$dir" "$dir.tar.gz"
    mkdir -p "$dir"
    cp "$exe" README.md "$dir/"
    python3 -m ziglang objcopy --strip-debug "$dir/st80" 2>/dev/null || true
    exe=$dir/st80
    local re=arm-linux-gnueabihf-readelf fail=0
    file "$exe" | grep -q 'ELF 32-bit LSB.*ARM, EABI5.*dynamically linked, interpreter /lib/ld-linux-armhf.so.3' \
        || { echo "package: $exe is not an ARM EABI5 executable for ld-linux-armhf: $(file -b "$exe")" >&2; fail=1; }
    $re -h "$exe" | grep -q 'hard-float ABI' || { echo "package: $exe is not hard-float" >&2; fail=1; }
    # Every object (Rust, SDL2, zig's glibc start files) must be ARMv6: the linker merges the
    # build attributes, so one ARMv7 object would make this v7.
    $re -A "$exe" | grep -q 'Tag_CPU_arch: v6$' || { echo "package: $exe is not ARMv6: $($re -A "$exe" | grep Tag_CPU_arch)" >&2; fail=1; }
    $re -A "$exe" | grep -q 'Tag_THUMB_ISA_use: Thumb-2' && { echo "package: $exe has Thumb-2 code (ARMv7)" >&2; fail=1; }
    # (ring, under rustls for `st80 fetch`, has a NEON SHA-512 in assembly, ARMv7 code that it
    # calls only when the kernel reports NEON, which an ARM1176 has not.)
    # Links glibc only: SDL2 is inside and loads its drivers' libraries itself.
    local needed
    needed=$($re -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    tr ' ' '\n' <<<"$needed" | grep . | grep -qvE '^(lib(c|m|dl|rt|pthread|util|gcc_s)\.so\.[0-9]+|ld-linux-armhf\.so\.3)$' \
        && { echo "package: $exe needs more than glibc: $needed" >&2; fail=1; }
    local newest
    newest=$($re -V "$exe" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
    [ "${newest#GLIBC_2.}" -le "${desktop_glibc#2.}" ] || { echo "package: $exe needs $newest" >&2; fail=1; }
    local drivers
    drivers=$(strings "$exe" | grep -xE 'libX11\.so\.6|libdrm\.so\.2|libgbm\.so\.1|libudev\.so\.1' | sort -u | tr '\n' ' ')
    for h in libX11.so.6 libdrm.so.2 libgbm.so.1 libudev.so.1; do
        [[ " $drivers" == *" $h "* ]] || { echo "package: SDL in $exe does not load $h (driver missing)" >&2; fail=1; }
    done
    [ $fail = 0 ] || return 1
    tar -C "$out" -czf "$dir.tar.gz" "$(basename "$dir")" || return 1
    # qemu-arm with Debian's armhf glibc (ARMv7: its loader needs a v7 CPU, so not -cpu arm1176).
    hash=$(display_hash qemu-arm -L /usr/arm-linux-gnueabihf "$exe")
    [ "$hash" = "$ref_hash" ] || { echo "package: $exe drew hash '${hash:-none}', native $ref_hash" >&2; return 1; }
    local window="no window check (needs the armhf sysroot of deb-armhf, Xvfb, xdotool)"
    if [ -f "$work/sysroot-armhf/.complete" ] && command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then
        armv6_window_check "$exe" || return 1
        window="its SDL opens an X11 window with Debian's libX11"
    fi
    rm -rf "$dir"
    echo "   $(basename "$dir").tar.gz: ARMv6 hard-float, links ${needed% }; SDL dlopens ${drivers% }; qemu-arm runs it, hash $hash; $window"
}

# The window: st80 $1 (the ARMv6 desktop) under qemu-arm on an Xvfb display, with the libX11 of
# the armhf sysroot for SDL's X11 driver to dlopen; the window must appear (screenshot in
# desktop-armv6.png).
armv6_window_check() {
    local exe=$1 s=$work/sysroot-armhf dfile=$out/xvfb-display xpid spid ok=0 i
    rm -f "$dfile"
    Xvfb -displayfd 3 -screen 0 1024x900x24 3>"$dfile" >"$out/xvfb.log" 2>&1 &
    xpid=$!
    for i in $(seq 100); do [ -s "$dfile" ] && break; sleep 0.1; done
    [ -s "$dfile" ] || { echo "package: Xvfb did not start" >&2; kill "$xpid"; return 1; }
    local display=:$(tr -d '\n' <"$dfile")
    DISPLAY=$display SDL_VIDEODRIVER=x11 qemu-arm -L /usr/arm-linux-gnueabihf \
        -E "LD_LIBRARY_PATH=$s/usr/lib/arm-linux-gnueabihf:$s/lib/arm-linux-gnueabihf" "$exe" run "$image" \
        >"$out/desktop-armv6-window.log" 2>&1 &
    spid=$!
    # (the timeout only ends a hung check; no time is asserted)
    DISPLAY=$display timeout 120 xdotool search --sync --name '^st80 - VirtualImage$' >/dev/null 2>&1 || ok=1
    [ $ok = 0 ] && DISPLAY=$display import -window root "$out/desktop-armv6.png" 2>/dev/null
    kill "$spid" "$xpid" 2>/dev/null
    wait "$spid" "$xpid" 2>/dev/null
    [ $ok = 0 ] || { echo "package: $exe opened no window: $(tail -3 "$out/desktop-armv6-window.log")" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------
# The `bundled-sdl` feature for aarch64 (what `cross build --features bundled-sdl` does), with
# Debian's cross compiler, in a target dir of its own.
build_bundled() {
    local t=aarch64-unknown-linux-gnu tdir=$out/bundled exe
    ensure_packages cmake gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user || return 1
    say "cargo build --profile $profile -p st80-cli --features bundled-sdl --target $t"
    # SDL's cmake looks for optional libraries (libsamplerate, ...) and, cross-compiling on a
    # host that has their headers, finds the host's and links them: a toolchain file keeps its
    # searches in the target's root (inside cross's images that is where they are) and turns
    # off libsamplerate, whose header it finds anyway.
    mkdir -p "$tdir"
    cat >"$tdir/aarch64.cmake" <<'CMAKE'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(SDL_LIBSAMPLERATE OFF CACHE BOOL "" FORCE)
CMAKE
    PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig PKG_CONFIG_PATH= \
        CMAKE_TOOLCHAIN_FILE_aarch64_unknown_linux_gnu=$tdir/aarch64.cmake \
        CARGO_TARGET_DIR=$tdir CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        cargo build --profile "$profile" -p st80-cli --features bundled-sdl --target "$t" \
        >"$out/bundled-aarch64.log" 2>&1 || { tail -15 "$out/bundled-aarch64.log"; return 1; }
    exe=$tdir/$t/$pdir/st80
    if aarch64-linux-gnu-readelf -d "$exe" | grep -q 'NEEDED.*libSDL2'; then
        echo "package: $exe links a shared libSDL2, not the bundled one" >&2
        return 1
    fi
    aarch64-linux-gnu-nm "$exe" | grep ' T SDL_CreateWindow$' >/dev/null || { echo "package: $exe has no SDL_CreateWindow" >&2; return 1; }
    local hash
    hash=$(display_hash qemu-aarch64 -L /usr/aarch64-linux-gnu "$exe")
    [ "$hash" = "$ref_hash" ] || { echo "package: $exe drew hash '${hash:-none}', native $ref_hash" >&2; return 1; }
    echo "   $exe: SDL2 linked in statically, starts under qemu, hash $hash"
}

# ---------------------------------------------------------------------------------------------
failed=()
started=$SECONDS
for w in "${wanted[@]}"; do
    t0=$SECONDS
    case "$w" in
        deb-amd64 | deb-arm64 | deb-armhf) build_deb "${w#deb-}" ;;
        windows) build_windows ;;
        tar-x86_64 | tar-aarch64 | tar-armv7 | tar-armv6 | tar-riscv64) build_tar "${w#tar-}" ;;
        desktop-armv6) build_desktop_armv6 ;;
        bundled-aarch64) build_bundled ;;
        *) die "unknown artifact $w (known: ${all[*]})" ;;
    esac
    status=$?
    echo "   $w: $([ $status = 0 ] && echo ok || echo FAILED) ($((SECONDS - t0)) s)"
    [ $status = 0 ] || failed+=("$w")
done
echo "package: ${#wanted[@]} artifacts in $((SECONDS - started)) s, in $out; $((${#wanted[@]} - ${#failed[@]})) passed, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
[ ${#failed[@]} = 0 ]
