#!/usr/bin/env python3
"""A flooding job against its neighbours, through the real requests-proxy (Release), loopback only.

Phases, each bounded by --seconds:
  1. unloaded: NEIGHBOURS jobs each post at --rate requests/s (well under their limit);
  2. flood, limits on: the same, while one more job posts as fast as --flood-threads threads can;
  3. flood, limits off (control): the same flood through a proxy started without limits.
Reports the neighbours' p50/p99 latency per phase and what the flooding job got (2xx vs 429).
The upstream is a Python ThreadingHTTPServer taking --upstream-ms per request: an upstream
with finite capacity, which is what a flood without limits eats.

usage: python3 bench/load/fairness.py [--seconds 20] [--neighbours 4] [--rate 20] [--flood-threads 8]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(key: str, sub: str) -> str:
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "v1"}).encode())
    payload = b64url(json.dumps({"iss": "jobs-manager", "aud": "requests-proxy", "sub": sub, "jti": uuid.uuid4().hex,
                                 "iat": now, "nbf": now, "exp": now + 3600, "scope": "results:write"}).encode())
    signature = hmac.new(key.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
    return header + "." + payload + "." + b64url(signature)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_upstream(service_ms: float) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(service_ms / 1000.0)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_proxy(binary: str, work: str, upstream: str, limits: bool) -> tuple:
    port, management = free_port(), free_port()
    env = dict(os.environ, ASPNETCORE_URLS="http://127.0.0.1:%d" % port,
               REQUESTS_PROXY_MANAGEMENT_URLS="http://127.0.0.1:%d" % management,
               REQUESTS_PROXY_KEYS_DIR=os.path.join(work, "keys"), REQUESTS_PROXY_REVOKED_DIR=os.path.join(work, "revoked"),
               REQUESTS_PROXY_UPSTREAM=upstream)
    if limits:
        # The chart's defaults.
        env.update(REQUESTS_PROXY_RATE_LIMIT_PER_SECOND="50", REQUESTS_PROXY_RATE_LIMIT_BURST="100",
                   REQUESTS_PROXY_CONCURRENCY_LIMIT="16")
    log = open(os.path.join(work, "proxy-%s.log" % ("limits" if limits else "nolimits")), "w")
    process = subprocess.Popen(["dotnet", os.path.join(binary, "requests-proxy.dll")], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % management, timeout=1) as answer:
                if answer.status == 200:
                    return process, port, log
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("requests-proxy did not become ready; see " + log.name)


class Job(threading.Thread):
    """One job on one keep-alive connection: at `rate` requests/s (0: as fast as it can) until `ends`."""

    def __init__(self, port: int, token: str, sub: str, rate: float, ends: float) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.sub, self.rate, self.ends = port, token, sub, rate, ends
        self.latencies: list = []
        self.statuses: dict = {}

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = b'{"epoch":1}'
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        next_at = time.monotonic()
        while time.monotonic() < self.ends:
            if self.rate:
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                next_at += 1.0 / self.rate
            started = time.perf_counter()
            try:
                connection.request("POST", "/v1/jobs/%s/results" % self.sub, body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                status = 0
            elapsed = time.perf_counter() - started
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.latencies.append(elapsed)
        connection.close()


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))] if ordered else float("nan")


def phase(name: str, port: int, key: str, args: argparse.Namespace, flood: bool) -> dict:
    ends = time.monotonic() + args.seconds
    neighbours = [Job(port, mint(key, "job-n%d" % i), "job-n%d" % i, args.rate, ends) for i in range(args.neighbours)]
    flooders = [Job(port, mint(key, "job-flood"), "job-flood", 0, ends) for _ in range(args.flood_threads)] if flood else []
    for job in neighbours + flooders:
        job.start()
    for job in neighbours + flooders:
        job.join(args.seconds + 30)
    latencies = [l for j in neighbours for l in j.latencies]
    neighbour_statuses: dict = {}
    for j in neighbours:
        for k, v in j.statuses.items():
            neighbour_statuses[k] = neighbour_statuses.get(k, 0) + v
    flood_statuses: dict = {}
    for j in flooders:
        for k, v in j.statuses.items():
            flood_statuses[k] = flood_statuses.get(k, 0) + v
    result = {
        "phase": name,
        "neighbour_requests": sum(neighbour_statuses.values()),
        "neighbour_statuses": neighbour_statuses,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "flood_statuses": flood_statuses,
        "flood_per_second": sum(flood_statuses.values()) / args.seconds,
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--neighbours", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20, help="requests/s of each neighbour")
    parser.add_argument("--flood-threads", type=int, default=8)
    parser.add_argument("--upstream-ms", type=float, default=2.0)
    parser.add_argument("--no-control", action="store_true", help="skip phase 3 (flood without limits)")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120:
        raise SystemExit("--seconds must be within 1..120 (bounded load)")

    work = tempfile.mkdtemp(prefix="rp-fairness-")
    processes = []
    try:
        os.makedirs(os.path.join(work, "keys"))
        os.makedirs(os.path.join(work, "revoked"))
        key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64))
        with open(os.path.join(work, "keys", "active"), "w") as f:
            f.write("v1\n")
        with open(os.path.join(work, "keys", "v1"), "w") as f:
            f.write(key + "\n")
        with open(os.path.join(work, "revoked", "revoked.json"), "w") as f:
            f.write("[]\n")
        binary = os.path.join(work, "proxy-bin")
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "RequestsProxy.Server", "RequestsProxy.Server.csproj"),
                        "-c", "Release", "-nologo", "-v", "q", "-o", binary], check=True, stdout=subprocess.DEVNULL)
        upstream = start_upstream(args.upstream_ms)
        upstream_url = "http://127.0.0.1:%d/" % upstream.server_address[1]

        limited, port, log = start_proxy(binary, work, upstream_url, limits=True)
        processes.append((limited, log))
        phase("warm-up", port, key, argparse.Namespace(**{**vars(args), "seconds": 3}), flood=True)
        results = [phase("unloaded", port, key, args, flood=False), phase("flood, limits on", port, key, args, flood=True)]
        limited.send_signal(signal.SIGTERM)
        limited.wait(30)
        if not args.no_control:
            unlimited, port, log = start_proxy(binary, work, upstream_url, limits=False)
            processes.append((unlimited, log))
            results.append(phase("flood, limits off", port, key, args, flood=True))

        base = results[0]["p99_ms"]
        print("\n| phase | neighbour requests | neighbour p50 | neighbour p99 | p99 vs unloaded | flooding job: req/s, answers |")
        print("|---|---|---|---|---|---|")
        for r in results:
            answers = ", ".join("%s × %d" % (k, v) for k, v in sorted(r["flood_statuses"].items())) or "–"
            print("| %s | %d | %.2f ms | %.2f ms | %.2f× | %s |" % (
                r["phase"], r["neighbour_requests"], r["p50_ms"], r["p99_ms"], r["p99_ms"] / base,
                ("%.0f/s: %s" % (r["flood_per_second"], answers)) if r["flood_statuses"] else "–"))
        held = results[1]["p99_ms"] <= 1.5 * base and results[1]["flood_statuses"].get(429, 0) > 0
        print("\nneighbours' p99 within 1.5x of unloaded while the flood got 429s: %s" % ("yes" if held else "NO"))
        return 0 if held else 1
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.kill()
            log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
