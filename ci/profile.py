#!/usr/bin/env python3
"""Where the host instructions of a workload go, per bytecode, by source line or by machine
instruction: the method of ci/perf.sh (docs/performance.md), with callgrind's per-instruction
counts. Each workload is run twice, long and short, and only the difference is shown, so
start-up and boot cancel out as they do in perf.sh's totals.

    python3 ci/profile.py lines [--top N]                  hottest source lines
    python3 ci/profile.py asm FUNCTION [--min X]           FUNCTION's machine code, counted
    options: --workload idle|suite (default idle)  --binary PATH (default target/release/st80)

`idle` is boot + idle (`run --headless --cycles`, 2.2M minus 200k); `suite` is the Benchmark
suite minus its shortest test. Counts are host instructions per bytecode of the workload; a
function inlined into `run` shows under `run` in `asm` and under its own source file in `lines`.
Needs valgrind and objdump, and the v2 image under $ST80_IMAGES (default ../shared/images).
"""
import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile


def callgrind(binary, args, work, name):
    """Runs `binary args` under callgrind with per-instruction counts; answers the output
    file and the program's stdout."""
    out = os.path.join(work, name)
    done = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes", f"--callgrind-out-file={out}",
                           binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"profile: {binary} {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return out, done.stdout


def advance(current, field):
    """A position (address or line) of a cost line: `*` the same, `+n`/`-n` relative, else
    absolute (addresses in hex)."""
    if field == "*":
        return current
    if field[0] in "+-":
        return current + int(field)
    return int(field, 16) if field.startswith("0x") else int(field)


def self_costs(path, binary):
    """Self instructions of `binary`'s own code in a callgrind file, by (address, source file,
    line). (Compressed names and relative positions as callgrind's format documents them; a
    call's line carries the callee's inclusive cost, which is not this code's.)"""
    costs = collections.Counter()
    objects, files = {}, {}
    obj = source = file = None
    addr = line = 0
    after_calls = False
    for raw in open(path):
        kind, _, rest = raw.rstrip("\n").partition("=")
        if kind in ("ob", "cob", "fl", "fi", "fe", "cfi", "cfl"):
            m = re.match(r"\((\d+)\)(?: (.*))?", rest)
            table = objects if kind.endswith("ob") else files
            if m.group(2):
                table[m.group(1)] = m.group(2)
            if kind == "ob":
                obj = table.get(m.group(1))
            elif kind in ("fl", "fi", "fe"):
                source = table.get(m.group(1))
                file = source if kind == "fl" else file
            continue
        if kind == "fn":
            source = file  # (an inlined file's lines end with the function)
            continue
        if kind == "calls":
            after_calls = True
            continue
        fields = raw.split()
        if not fields or not re.match(r"^(0x[0-9a-f]+|[+-]\d+|\*)$", fields[0]):
            continue
        addr = advance(addr, fields[0])
        line = advance(line, fields[1] if len(fields) > 1 else "*")
        if after_calls:
            after_calls = False
            continue
        if obj == binary and len(fields) > 2:
            costs[(addr, source, line)] += int(fields[2])
    return costs


def workload_difference(binary, workload, image, work):
    """Self costs of the long run minus the short one, and the bytecodes between them."""
    if workload == "idle":
        run = ["run", image, "--headless", "--no-sources", "--cycles"]
        short, _ = callgrind(binary, run + ["200000"], work, "short")
        long, _ = callgrind(binary, run + ["2200000"], work, "long")
        bytecodes = 2_000_000
    else:
        bench = ["bench", image, "--json", "--gc-samples", "0"]
        short, one = callgrind(binary, bench + ["--test", "testLoadInstVar"], work, "short")
        long, all_ = callgrind(binary, bench, work, "long")
        bytecodes = json.loads(all_)["bytecodes"] - json.loads(one)["bytecodes"]
    a, b = self_costs(short, binary), self_costs(long, binary)
    return {k: v - a.get(k, 0) for k, v in b.items()}, bytecodes


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # (piped into head)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["lines", "asm"])
    p.add_argument("function", nargs="?", help="for asm: a substring of the (demangled) function name")
    p.add_argument("--workload", choices=["idle", "suite"], default="idle")
    p.add_argument("--binary", default="target/release/st80")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--min", type=float, default=0.0, help="for asm: hide instructions below this count")
    a = p.parse_args()
    if a.what == "asm" and not a.function:
        p.error("asm needs a FUNCTION")
    image = os.path.join(os.environ.get("ST80_IMAGES", "../shared/images"), "xerox-v2", "VirtualImage")
    for path, what in [(a.binary, "binary"), (image, "image")]:
        if not os.path.isfile(path):
            sys.exit(f"profile: {path}: no such {what} (cargo build --release; $ST80_IMAGES)")
    binary = os.path.realpath(a.binary)
    with tempfile.TemporaryDirectory() as work:
        costs, bytecodes = workload_difference(binary, a.workload, image, work)
    total = sum(costs.values())
    print(f"{a.workload}: {total / bytecodes:.2f} instructions per bytecode in {binary} "
          f"({bytecodes} bytecodes)")
    if a.what == "lines":
        by_line = collections.Counter()
        for (_, source, line), c in costs.items():
            by_line[(source or "?", line)] += c
        for (source, line), c in by_line.most_common(a.top):
            print(f"{c / bytecodes:7.2f}  {source.split('/')[-1]}:{line}")
        return
    by_addr = collections.Counter()
    for (addr, _, _), c in costs.items():
        by_addr[addr] += c
    asm = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", binary], capture_output=True,
                         text=True, check=True).stdout
    inside = False
    for text in asm.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.*)>:$", text)
        if head:
            inside = a.function in head.group(1)
            if inside:
                print(text)
            continue
        insn = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", text)
        if inside and insn:
            count = by_addr.get(int(insn.group(1), 16), 0) / bytecodes
            if count >= a.min:
                print(f"{count:7.3f}  {insn.group(1)}: {insn.group(2)}")


if __name__ == "__main__":
    main()
