#!/usr/bin/env python3
"""Holds COUNT keep-alive connections to the proxy, each having made one authorized request first
(so every one is a real pod's connection, authenticated and idle), for HOLD seconds, then exits.
Prints "ready <open>" once all are open, and "open <n>" at the end: how many the proxy kept.
Loopback only; bounded in count and time.

usage: idle_connections.py PORT COUNT HOLD_SECONDS TOKEN
"""
import socket
import sys
import time


def main() -> int:
    port, count, hold, token = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    request = ("GET /v1/results HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer %s\r\n\r\n" % token).encode("ascii")
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        sockets.append(s)
    ok = 0
    for s in sockets:
        answer = b""
        while b"\r\n\r\nok" not in answer and not answer.endswith(b"\r\n0\r\n\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        ok += answer.startswith(b"HTTP/1.1 200")
    print("ready %d (%d answered 200)" % (len(sockets), ok), flush=True)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        time.sleep(0.5)
    still = 0
    for s in sockets:
        s.setblocking(False)
        try:
            still += s.recv(1) != b""
        except BlockingIOError:
            still += 1  # nothing to read and not closed: still open
        except OSError:
            pass
        s.close()
    print("open %d" % still, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
