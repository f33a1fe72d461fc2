#!/usr/bin/env bash
# st80 on bare metal under QEMU: builds the kernels with the Xerox image embedded and a
# deterministic run of N bytecodes, boots them on QEMU's `virt` (virtio-gpu) and `raspi3b`
# (VideoCore mailbox framebuffer) machines, and checks that the display hash each kernel
# prints on its UART, and the hash of the framebuffer QEMU's monitor `screendump` captures,
# equal the hash of `st80 run --headless --cycles N`. Then a `virt` kernel saves a snapshot on
# a virtio disk, and boots it again: the saved image (taken out of the disk file) shows what
# was done before the save, and the board shows the same Display as `st80 run` of that image.
# A `virt` kernel takes a click-and-type session through QEMU's QMP (input_test.py): the
# screen it ends on equals a headless replay of the input log the kernel printed (each event
# stamped with the bytecode cycle the image took it at), and the screen of the same session
# written by hand in tests/cases/workspace-print-it. A `raspi3b` kernel takes the same session
# through a USB keyboard and tablet (QEMU's DWC2 controller, a hub, HID reports).
# On `raspi3b`, a kernel without an embedded image boots VirtualImage from a FAT32 SD card
# image, saves its snapshot there (SNAP0.IMG, checked with st80 check and a headless run), boots
# it, saves again into the other slot, and boots the older slot when the newer one is damaged.
# Boot times and bytecodes/s under emulation are reported, not asserted. Run from anywhere: bash platforms/baremetal/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
cycles=${ST80_BAREMETAL_CYCLES:-3000000}
image=${ST80_IMAGES:-$root/../shared/images}/xerox-v2/VirtualImage
target=aarch64-unknown-none

if [ ! -f "$image" ]; then
    echo "SKIP: $image not found (set ST80_IMAGES); the bare-metal kernels were not booted"
    exit 0
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$target" && ! rustup target add "$target"; then
    echo "SKIP: the $target standard library is not installed and rustup could not download it"
    exit 0
fi
if ! command -v qemu-system-aarch64 >/dev/null; then
    echo "== installing qemu-system-arm (qemu-system-aarch64)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq qemu-system-arm >/dev/null; } || true
    if ! command -v qemu-system-aarch64 >/dev/null; then
        echo "SKIP: qemu-system-aarch64 is not installed and apt-get could not install it"
        exit 0
    fi
fi

work=$(mktemp -d)
qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== bare metal: cargo fmt --check, clippy"
cargo fmt --check
cargo clippy --release -- -D warnings

echo "== bare metal: reference hash from st80 run --headless --cycles $cycles"
(cd "$root" && cargo build --release -q -p st80-cli)
expected=$("$root/target/release/st80" run "$image" --headless --no-sources --cycles "$cycles" \
    --screenshot "$work/headless.png" 2>&1 | sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p')
[ -n "$expected" ] || { echo "FAIL: st80 run --headless printed no display hash"; exit 1; }
echo "headless: hash $expected"

echo "== bare metal: building the kernels (image embedded, $cycles bytecodes)"
kernels=target/$target/release
ST80_IMAGE="$image" ST80_CYCLES="$cycles" cargo build --release
cp "$kernels/st80-virt" "$work/st80-virt"
python3 elf2img.py "$kernels/st80-raspi3" "$work/kernel8.img"
# The same, then a line of text on the Transcript and a snapshot.
ST80_IMAGE="$image" ST80_CYCLES="$cycles" \
    ST80_EVAL="Transcript show: 'Saved on bare metal.'; cr. Smalltalk snapshotAs: 'snapshot' thenQuit: false" \
    cargo build --release --bin st80-virt
cp "$kernels/st80-virt" "$work/st80-virt-save"
# The Pi kernel without an image: it must find one on the SD card; then the same line and save.
ST80_IMAGE="" ST80_CYCLES="$cycles" \
    ST80_EVAL="Transcript show: 'Saved on bare metal.'; cr. Smalltalk snapshotAs: 'snapshot' thenQuit: false" \
    cargo build --release --bin st80-raspi3
python3 elf2img.py "$kernels/st80-raspi3" "$work/kernel8-card.img"
# The same, then input taken and logged with its cycles, until ^D on the console.
ST80_IMAGE="$image" ST80_CYCLES="$cycles" ST80_RECORD=1 cargo build --release --bin st80-virt --bin st80-raspi3
cp "$kernels/st80-virt" "$work/st80-virt-record"
python3 elf2img.py "$kernels/st80-raspi3" "$work/kernel8-record.img"

passed=0
failed=0
check() { # NAME EXPECTED ACTUAL
    if [ -n "$2" ] && [ "$2" = "$3" ]; then
        echo "ok: $1 ($3)"
        passed=$((passed + 1))
    else
        echo "FAIL: $1: expected $2, got ${3:-nothing}"
        failed=$((failed + 1))
    fi
}

monitor() { # SOCKET COMMAND...: sends monitor commands, one per argument
    python3 - "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
time.sleep(0.2)
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\n")
    time.sleep(0.5)
PY
}

# NAME KERNEL EXPECTED SCREEN QEMU-ARGS...: boots, waits for the end of the run, checks the
# hash on the UART and, if SCREEN is "screen", the screendump's; the log stays in $work.
boot() {
    local name=$1 kernel=$2 expected=$3 screen=$4
    shift 4
    local log="$work/$name.log" sock="$work/$name.sock" dump="$work/$name.ppm"
    echo "== $name: qemu-system-aarch64 $*"
    qemu-system-aarch64 "$@" -display none -serial "file:$log" \
        -monitor "unix:$sock,server,nowait" -kernel "$kernel" 2>"$work/$name.qemu-stderr" &
    qemu_pid=$!
    local waited=0
    until grep -q "st80: done\|st80: panic\|CPU exception\|st80: no image\|cannot" "$log" 2>/dev/null; do
        if [ $waited -ge 240 ] || ! kill -0 "$qemu_pid" 2>/dev/null; then break; fi
        sleep 0.5
        waited=$((waited + 1))
    done
    sed 's/^/  /' "$log" "$work/$name.qemu-stderr" 2>/dev/null | tr -d '\r' || true
    local hash origin
    hash=$(sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p' "$log" 2>/dev/null | tr -d '\r')
    check "$name: display hash on the UART" "$expected" "$hash"
    # "display 640 x 480 at X,Y": where the Display sits on the framebuffer.
    origin=$(sed -n 's/.*display \([0-9]*\) x \([0-9]*\) at \([0-9]*\),\([0-9]*\) .*/\3 \4 \1 \2/p' "$log" | tr -d '\r')
    if [ "$screen" = screen ]; then
        local shot=""
        if [ -n "$origin" ] && kill -0 "$qemu_pid" 2>/dev/null; then
            monitor "$sock" "screendump $dump"
            for _ in $(seq 20); do [ -s "$dump" ] && break; sleep 0.5; done
            # shellcheck disable=SC2086 # origin is four numbers
            [ -s "$dump" ] && shot=$(python3 screendump_hash.py "$dump" $origin)
        fi
        check "$name: display hash of the framebuffer (QEMU screendump)" "$expected" "$shot"
    fi
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}

virt=(-M virt -cpu cortex-a53 -m 256M -device virtio-gpu-device -device virtio-keyboard-device
    -device virtio-tablet-device)
boot virt "$work/st80-virt" "$expected" screen "${virt[@]}"
# With a USB keyboard and a (boot protocol) mouse, enumerated through QEMU's hub: the run is the same.
boot raspi3b "$work/kernel8.img" "$expected" screen -M raspi3b -usb -device usb-kbd -device usb-mouse
check "raspi3b: the kernel found the USB hub, keyboard and mouse" "hub Keyboard Mouse" \
    "$(sed -n 's/.*st80: USB \(hub\|Keyboard\|Mouse\).*/\1/p' "$work/raspi3b.log" | tr -d '\r' | xargs)"

# Input through QEMU's monitor (tablet and keyboard): open a workspace, type 3 + 4, print it.
# The kernel logs the events with the cycles the image took them at; the same log replayed
# headless must end on the same screen, and that screen is the one of the hand-written
# session tests/cases/workspace-print-it (a workspace holding "3 + 4 7").
# On raspi3b the same session goes through USB: a keyboard and a tablet that QEMU attaches
# behind a hub on the DWC2 controller's one root port, enumerated and polled by the kernel.
case_hash=$(sed -n 's/^hash = "\([0-9a-f]*\)"/\1/p' "$root/tests/cases/workspace-print-it/expect.toml")
input_session() { # NAME KERNEL WHAT QEMU-ARGS...
    local name=$1 kernel=$2 what=$3
    shift 3
    echo "== $name: clicks and keys through QMP input-send-event ($what)"
    local input_hash="" shot="" replayed="" started=$SECONDS
    if python3 input_test.py "$kernel" "$work" "$name" -- "$@"; then
        input_hash=$(sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p' "$work/$name.log" | tail -n 1)
        # shellcheck disable=SC2046 # four numbers
        shot=$(python3 screendump_hash.py "$work/$name.ppm" $(sed -n 's/.*display \([0-9]*\) x \([0-9]*\) at \([0-9]*\),\([0-9]*\) .*/\3 \4 \1 \2/p' "$work/$name.log" | tail -n 1))
        replayed=$("$root/target/release/st80" run "$image" --headless --no-sources --replay "$work/$name.replay" \
            --cycles "$(cat "$work/$name.cycles")" --screenshot "$work/$name-replayed.png" 2>&1 |
            sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p')
    fi
    sed 's/^/  /' "$work/$name.log" 2>/dev/null | grep -v "st80: input " || true
    echo "  ($(grep -c "st80: input " "$work/$name.log" 2>/dev/null || echo 0) input events logged; $((SECONDS - started)) s)"
    check "$name: the framebuffer (QEMU screendump) shows the Display the kernel hashed" "$input_hash" "$shot"
    check "$name: st80 run --headless --replay of the kernel's input log ends on the same Display" "$input_hash" "$replayed"
    check "$name: the screen is tests/cases/workspace-print-it's (a workspace holding 3 + 4 7)" "$case_hash" "$input_hash"
}
input_session virt-input "$work/st80-virt-record" "virtio keyboard and tablet" "${virt[@]}"
input_session raspi3b-usb-input "$work/kernel8-record.img" "USB keyboard and tablet behind a hub" \
    -M raspi3b -usb -device usb-kbd -device usb-tablet
check "raspi3b-usb-input: the kernel found the USB keyboard and the tablet" 2 \
    "$(grep -c "st80: USB \(Keyboard\|Tablet\) on device" "$work/raspi3b-usb-input.log" || true)"

# Snapshots on a virtio disk: save one, check what was saved, boot it.
truncate -s 8M "$work/disk.img"
disk=(-drive "file=$work/disk.img,if=none,format=raw,id=disk" -device virtio-blk-device,drive=disk)
boot virt-save "$work/st80-virt-save" "$expected" no "${virt[@]}" "${disk[@]}"
saved_ok=$(grep -c "st80: snapshot saved" "$work/virt-save.log" || true)
check "virt-save: the snapshot was saved on the disk" 1 "$saved_ok"
cp "$work/disk.img" "$work/disk-saved.img"
saved_hash=""
if python3 snapshot_from_disk.py "$work/disk-saved.img" "$work/saved.image"; then
    saved_hash=$("$root/target/release/st80" run "$work/saved.image" --headless --no-sources \
        --cycles "$cycles" --screenshot "$work/saved.png" 2>&1 | sed -n 's/.*hash \([0-9a-f]\{16\}\).*/\1/p')
    echo "headless run of the saved image: hash $saved_hash"
fi
# The saved image shows the Transcript line written before the save: another Display.
if [ -n "$saved_hash" ] && [ "$saved_hash" != "$expected" ]; then changed=yes; else changed=no; fi
check "virt-save: the saved image differs from the original (the Transcript line)" yes "$changed"
# (No screendump: after the hash the kernel evaluates and saves again, which redraws.)
boot virt-boot-saved "$work/st80-virt-save" "$saved_hash" no "${virt[@]}" "${disk[@]}"
booted=$(grep -c "booting the snapshot saved on the disk" "$work/virt-boot-saved.log" || true)
check "virt-boot-saved: booted the snapshot from the disk" 1 "$booted"

# The SD card on the Pi: a FAT32 partition (MBR, as on a real card) holding VirtualImage only.
if ! command -v mkfs.vfat >/dev/null || ! command -v mcopy >/dev/null || ! command -v sfdisk >/dev/null; then
    echo "== installing dosfstools, mtools, fdisk"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq dosfstools mtools fdisk >/dev/null
fi
card="$work/card.img"
truncate -s 64M "$card" # QEMU wants a power of two
echo 'start=2048, type=c' | sfdisk -q "$card"
mkfs.vfat -F 32 --offset 2048 "$card" $((63 * 1024)) >/dev/null
mcopy -i "$card@@1M" "$image" ::VirtualImage
sd=(-M raspi3b -drive "if=sd,format=raw,file=$card")
boot raspi3b-card "$work/kernel8-card.img" "$expected" no "${sd[@]}"
check "raspi3b-card: booted VirtualImage from the SD card" 1 "$(grep -c "booting VirtualImage from the SD card" "$work/raspi3b-card.log" || true)"
check "raspi3b-card: the snapshot was written to SNAP0.IMG" 1 "$(grep -c "written to SNAP0.IMG on the SD card" "$work/raspi3b-card.log" || true)"
card_hash="" card_check=""
if mcopy -n -i "$card@@1M" ::SNAP0.IMG "$work/card-saved.image"; then
    card_check=$("$root/target/release/st80" check "$work/card-saved.image" 2>&1 | tail -n 1)
    "$root/target/release/st80" run "$work/card-saved.image" --headless --no-sources --cycles "$cycles" \
        --hash-out "$work/card-saved.hash" >/dev/null 2>&1 && card_hash=$(cat "$work/card-saved.hash")
fi
check "raspi3b-card: st80 check of SNAP0.IMG taken off the card" ok "$card_check"
check "raspi3b-card: SNAP0.IMG shows what the virt disk's snapshot shows (the Transcript line)" "$saved_hash" "$card_hash"
boot raspi3b-card-saved "$work/kernel8-card.img" "$card_hash" no "${sd[@]}"
check "raspi3b-card-saved: booted the snapshot from the SD card" 1 "$(grep -c "booting the snapshot on the SD card" "$work/raspi3b-card-saved.log" || true)"
check "raspi3b-card-saved: its snapshot went to the other slot, SNAP1.IMG" 1 "$(grep -c "written to SNAP1.IMG on the SD card" "$work/raspi3b-card-saved.log" || true)"
dd if="$card" of="$work/card-fat.img" bs=1M skip=1 status=none
fsck_ok=no; fsck.vfat -n "$work/card-fat.img" >"$work/fsck.log" 2>&1 && fsck_ok=yes
check "raspi3b-card: fsck.vfat -n finds the FAT partition consistent after two saves" yes "$fsck_ok"
# A save that died half-way: SNAP1.IMG no longer matches SNAP1.SUM; SNAP0's snapshot boots.
mcopy -n -i "$card@@1M" ::SNAP1.IMG "$work/snap1.img"
printf 'X' | dd of="$work/snap1.img" bs=1 seek=100000 conv=notrunc status=none
mcopy -o -i "$card@@1M" "$work/snap1.img" ::SNAP1.IMG
boot raspi3b-card-damaged "$work/kernel8-card.img" "$card_hash" no "${sd[@]}"
refused=no; grep -q "SNAP1.IMG on the SD card does not match" "$work/raspi3b-card-damaged.log" && refused=yes
check "raspi3b-card-damaged: the damaged SNAP1.IMG is refused" yes "$refused"

echo "baremetal: $passed passed, $failed failed"
[ "$failed" = 0 ]
