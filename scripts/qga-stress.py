#!/usr/bin/env python3
"""Runs shell commands in a guest through its agent's socket, each over a
new connection (guest-exec, then guest-exec-status until it exits), as the
host agent and the lab tests do, and reports the slowest. A reply that never
comes fails the run after 10 s: this is how the virtio-serial race of
session 7 was found.

    python3 scripts/qga-stress.py RUN_DIR/vms/VM_ID/qga.sock 2500
"""
import base64
import json
import random
import socket
import sys
import time


def call(path, command, arguments=None, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    sync = random.randrange(1 << 30)
    s.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": sync}}).encode() + b"\n")
    buf = b""
    while b"\xff" not in buf:
        buf += s.recv(4096) or sys.exit("the agent closed the socket")
    buf = buf[buf.index(b"\xff") + 1:]
    decoder = json.JSONDecoder()

    def value():
        nonlocal buf
        while True:
            text = buf.decode(errors="replace").lstrip()
            try:
                v, end = decoder.raw_decode(text)
                buf = text[end:].encode()
                return v
            except ValueError:
                buf += s.recv(4096) or sys.exit("the agent closed the socket")

    while value().get("return") != sync:
        pass
    request = {"execute": command}
    if arguments:
        request["arguments"] = arguments
    s.sendall(json.dumps(request).encode() + b"\n")
    answer = value()
    s.close()
    return answer["return"]


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    scripts = ["head -c 4096 /dev/vda | wc -c", "echo hello"]
    worst = 0.0
    for i in range(count):
        start = time.time()
        try:
            pid = call(path, "guest-exec", {"path": "/bin/sh", "arg": ["-c", scripts[i % 2]], "capture-output": True})["pid"]
            while not call(path, "guest-exec-status", {"pid": pid})["exited"]:
                time.sleep(0.05)
        except OSError as e:
            sys.exit(f"command {i}: no answer after {time.time() - start:.1f} s ({e})")
        worst = max(worst, time.time() - start)
    print(f"{count} commands, slowest {worst:.3f} s")


if __name__ == "__main__":
    main()
