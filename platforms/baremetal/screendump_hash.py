#!/usr/bin/env python3
"""The display hash of a rectangle of a QEMU screendump (binary PPM, P6): the pixels read as
black (dark) or white, hashed as st80_core::display_hash hashes the Display (FNV-1a-64 over
width and height as little-endian u32, then each row's 16-bit words big-endian, leftmost
pixel the most significant bit, bits past the width cleared).

usage: screendump_hash.py SCREEN.ppm X Y WIDTH HEIGHT"""
import sys


def read_ppm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        sys.exit(f"{path}: not a binary 8-bit PPM")
    return int(fields[1]), int(fields[2]), data[pos + 1:]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    path = sys.argv[1]
    x0, y0, w, h = map(int, sys.argv[2:])
    sw, sh, pixels = read_ppm(path)
    if x0 + w > sw or y0 + h > sh:
        sys.exit(f"{path}: {sw} x {sh} does not hold {w} x {h} at {x0},{y0}")
    hsh = 0xCBF29CE484222325

    def feed(bs):
        nonlocal hsh
        for b in bs:
            hsh = ((hsh ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF

    feed(w.to_bytes(4, "little") + h.to_bytes(4, "little"))
    for y in range(y0, y0 + h):
        row = bytearray()
        for wx in range((w + 15) // 16):
            word = 0
            for bit in range(16):
                x = wx * 16 + bit
                if x < w:
                    i = ((y * sw) + x0 + x) * 3
                    if sum(pixels[i:i + 3]) < 384:
                        word |= 0x8000 >> bit
            row += word.to_bytes(2, "big")
        feed(row)
    print(f"{hsh:016x}")


main()
