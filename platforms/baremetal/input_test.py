"""Drives a kernel built with ST80_RECORD=1 the way a user would: boots it in QEMU (`virt`
with virtio input, or `raspi3b` with a USB keyboard and tablet), waits for its test run to
end, then moves the tablet, clicks and types through QEMU's QMP monitor (`input-send-event`,
absolute tablet coordinates). The kernel logs every event the
image takes with its bytecode cycle; after each step this waits until the image has taken it
(and a little more, for the image to react), so the session does what it means on any
machine. Then ^D on the console ends the session: the kernel prints its display hash and
halts, and the framebuffer is dumped.

    python3 input_test.py KERNEL WORKDIR NAME -- QEMU-ARGS...

Writes WORKDIR/NAME.log (the console), NAME.replay (the events as a `st80 run --replay` log),
NAME.cycles (the cycles run) and NAME.ppm (the screendump). Exit status 1 if the kernel did
not get through the session.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

# The session: open a workspace from the screen menu, type 3 + 4, print it (as in
# tests/cases/workspace-print-it, in Display coordinates).
SESSION = [
    ("mouse", 620, 300),  # on the background
    ("button", "right", True),  # yellow (as on the desktop): the screen menu
    ("mouse", 580, 248),  # onto "workspace"
    ("button", "right", False),
    ("mouse", 120, 280),  # frame the new window: top left ...
    ("button", "left", True),
    ("mouse", 420, 440),  # ... to bottom right
    ("button", "left", False),
    ("type", "3 + 4"),
    ("mouse", 127, 297),  # select the text by dragging over it
    ("button", "left", True),
    ("mouse", 175, 297),
    ("button", "left", False),
    ("button", "right", True),  # the text menu
    ("mouse", 175, 284),  # onto "print it"
    ("button", "right", False),
]

# What the kernel logs when the image has taken a step's event.
BUTTONS = {"left": "red", "right": "yellow", "middle": "blue"}
QCODES = {" ": "spc", "+": "equal", "3": "3", "4": "4"}
SHIFTED = {"+"}

TIMEOUT = 180  # seconds for the whole session


class Console:
    """The kernel's UART over a unix socket: its output kept in a log file."""

    def __init__(self, path, log):
        self.sock = connect(path)
        self.sock.setblocking(False)
        self.log = open(log, "w")
        self.text = ""

    def pump(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                chunk = data.decode("latin-1").replace("\r", "")
                self.text += chunk
                self.log.write(chunk)
                self.log.flush()
        except BlockingIOError:
            pass

    def wait_for(self, pattern, start=0, deadline=None):
        """The first match of `pattern` in the output from offset `start`."""
        while True:
            self.pump()
            m = re.compile(pattern, re.M).search(self.text, start)
            if m:
                return m
            if re.search(r"st80: (panic|the VM stopped|done)|CPU exception", self.text[start:]):
                raise RuntimeError(f"the kernel stopped while waiting for {pattern!r}")
            if time.time() > deadline:
                raise RuntimeError(f"timed out waiting for {pattern!r}")
            time.sleep(0.05)


class Qmp:
    def __init__(self, path):
        self.sock = connect(path)
        self.sock.settimeout(30)
        self.file = self.sock.makefile("rw")
        self.read()  # the greeting
        self.call("qmp_capabilities")

    def read(self):
        while True:
            msg = json.loads(self.file.readline())
            if "event" not in msg:
                return msg

    def call(self, command, **arguments):
        if os.environ.get("ST80_INPUT_DEBUG"):
            print(f"{time.time():.2f} QMP {command} {arguments}", file=sys.stderr)
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        reply = self.read()
        if "error" in reply:
            raise RuntimeError(f"QMP {command}: {reply['error']}")
        return reply.get("return")

    def events(self, *events):
        self.call("input-send-event", events=list(events))


def connect(path):
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
    raise RuntimeError(f"cannot connect to {path}")


def key(qcode, down):
    return {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}


def main():
    kernel, work, name = sys.argv[1:4]
    assert sys.argv[4] == "--"
    qemu_args = sys.argv[5:]
    base = os.path.join(work, name)
    serial, qmp_path = base + ".serial", base + ".qmp"
    for path in (serial, qmp_path):  # a socket file left by an earlier run
        if os.path.exists(path):
            os.unlink(path)
    qemu = subprocess.Popen(
        ["qemu-system-aarch64", *qemu_args, "-display", "none", "-kernel", kernel,
         "-chardev", f"socket,id=console,path={serial},server=on,wait=on", "-serial", "chardev:console",
         "-qmp", f"unix:{qmp_path},server=on,wait=off"],
        stderr=open(base + ".qemu-stderr", "w"))
    deadline = time.time() + TIMEOUT
    console = None
    try:
        console = Console(serial, base + ".log")
        fb = console.wait_for(r"framebuffer (\d+) x (\d+)", 0, deadline)
        fw, fh = int(fb[1]), int(fb[2])
        d = console.wait_for(r"display (\d+) x (\d+) at (\d+),(\d+)", 0, deadline)
        ox, oy = int(d[3]), int(d[4])
        start = console.wait_for(r"recording input", 0, deadline).end()
        # Only now: QEMU 7.2 sometimes hangs when QMP is set up while the kernel starts.
        qmp = Qmp(qmp_path)

        def tablet(axis, pixel, size):
            # The kernel takes pixel v * size / 32768: the least v giving `pixel`.
            return {"type": "abs", "data": {"axis": axis, "value": min((pixel * 32768 + size - 1) // size, 32767)}}

        for step in SESSION:
            if step[0] == "mouse":
                x, y = step[1], step[2]
                qmp.events(tablet("x", x + ox, fw), tablet("y", y + oy, fh))
                expect = [rf"^st80: input \d+ mouse {x} {y}$"]
            elif step[0] == "button":
                qmp.events({"type": "btn", "data": {"down": step[2], "button": step[1]}})
                expect = [rf"^st80: input \d+ button {BUTTONS[step[1]]} {'down' if step[2] else 'up'}$"]
            else:
                expect = []
                for c in step[1]:
                    code = QCODES[c]
                    if c in SHIFTED:
                        qmp.events(key("shift", True), key(code, True), key(code, False), key("shift", False))
                    else:
                        qmp.events(key(code, True), key(code, False))
                    expect.append(rf"^st80: input \d+ keyup code{ord(c)}$")
            for pattern in expect:
                start = console.wait_for(pattern, start, deadline).end()
            time.sleep(0.4)  # the image reacts (menus, framing): not needed for the replay
        time.sleep(1)
        console.sock.sendall(b"\x04")
        done = console.wait_for(r"st80: ran (\d+) bytecodes", start, deadline)
        console.wait_for(r"st80: done", start, deadline)
        with open(base + ".cycles", "w") as f:
            f.write(done[1] + "\n")
        qmp.call("screendump", filename=base + ".ppm")
        lines = re.findall(r"^st80: input (.*)$", console.text, re.M)
        with open(base + ".replay", "w") as f:
            f.write("# input the image took on the bare-metal kernel (input_test.py)\n")
            f.writelines(line + "\n" for line in lines)
        print(f"{name}: {len(lines)} input events in {done[1]} bytecodes")
        return 0
    except (RuntimeError, OSError, ValueError) as e:
        print(f"{name}: {e}")
        return 1
    finally:
        if console:
            console.pump()
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    sys.exit(main())
