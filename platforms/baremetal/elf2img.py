#!/usr/bin/env python3
"""Writes the loadable segments of an AArch64 ELF kernel as the flat image the Raspberry Pi
firmware (and QEMU's raspi machines) load at the lowest segment's address (kernel8.img):
what `objcopy -O binary` does, without needing an objcopy that knows AArch64.

usage: elf2img.py KERNEL.elf kernel8.img"""
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    elf = open(sys.argv[1], "rb").read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        sys.exit(f"{sys.argv[1]}: not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    segments = []
    for i in range(phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1 and p_filesz > 0:  # PT_LOAD with bytes in the file
            segments.append((p_paddr, elf[p_offset:p_offset + p_filesz]))
    if not segments:
        sys.exit(f"{sys.argv[1]}: no loadable segments")
    base = min(a for a, _ in segments)
    out = bytearray(max(a + len(d) for a, d in segments) - base)
    for a, d in segments:
        out[a - base:a - base + len(d)] = d
    open(sys.argv[2], "wb").write(out)


main()
