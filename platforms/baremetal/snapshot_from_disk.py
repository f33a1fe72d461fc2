#!/usr/bin/env python3
"""Takes the newest intact snapshot out of a disk written by the bare-metal kernels (the
layout of src/snapstore.rs: two slots, headers in sectors 0 and 1) and writes it as an image
file, so `st80 run` can run what the board saved.

usage: snapshot_from_disk.py DISK.img OUT.image"""
import struct
import sys


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    disk = open(sys.argv[1], "rb").read()
    slots = []
    for slot in (0, 1):
        s = disk[slot * 512:(slot + 1) * 512]
        if s[:8] != b"ST80SNAP":
            continue
        version, sequence, start, length, checksum = struct.unpack_from("<5Q", s, 8)
        data = disk[start * 512:start * 512 + length]
        if version == 1 and len(data) == length and fnv1a64(data) == checksum:
            slots.append((sequence, data))
    if not slots:
        sys.exit(f"{sys.argv[1]}: no intact snapshot on the disk")
    open(sys.argv[2], "wb").write(max(slots)[1])


main()
