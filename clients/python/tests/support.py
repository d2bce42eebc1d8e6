"""Fixtures for the client tests: a key ring and token minting, a recording upstream, and the
real requests-proxy process (the built ``requests-proxy.dll``, run with ``dotnet``).

The proxy assembly is ``$REQUESTS_PROXY_ASSEMBLY`` (set by the .NET test that runs this suite)
or the Debug/Release build under src/RequestsProxy.Server/bin.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import hmac
import http.server
import json
import os
import re
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
from typing import Dict, List, Optional

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, "..", "..", ".."))

# The package under test: the installed copy when there is one (PYTHONPATH from the .NET test,
# which installs it with pip), else the source folder.
try:
    import requests_proxy_client  # noqa: F401
except ImportError:
    sys.path.append(os.path.join(_HERE, "..", "src"))

SCOPE = "results:write"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class KeyRing:
    """A key ring folder as the proxy reads it: ``active`` names the kid, one file per key."""

    def __init__(self, path: str, populated: bool = True) -> None:
        self.path = path
        os.makedirs(path, exist_ok=True)
        self.keys: Dict[str, str] = {}
        self.active = "v1"
        if populated:
            self.write("v1", self.generate())

    @staticmethod
    def generate() -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(64))

    def write(self, kid: str, key: str, active: bool = True) -> None:
        self.keys[kid] = key
        _atomic_write(os.path.join(self.path, kid), key + "\n")
        if active:
            self.active = kid
            _atomic_write(os.path.join(self.path, "active"), kid + "\n")

    def mint(self, sub: str, ttl: int = 600, scope: str = SCOPE, kid: Optional[str] = None) -> str:
        kid = kid or self.active
        now = int(time.time())
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        payload = b64url(json.dumps({
            "iss": "jobs-manager", "aud": "requests-proxy", "sub": sub, "jti": uuid.uuid4().hex,
            "iat": now, "nbf": now, "exp": now + ttl, "scope": scope,
        }).encode())
        signing_input = (header + "." + payload).encode("ascii")
        signature = hmac.new(self.keys[kid].encode(), signing_input, hashlib.sha256).digest()
        return header + "." + payload + "." + b64url(signature)


def jti_of(token: str) -> str:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["jti"]


def _atomic_write(path: str, text: str) -> None:
    temporary = path + ".tmp-" + uuid.uuid4().hex
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def write_token(path: str, token: str) -> None:
    """Replaces the token file in one step, as the kubelet's symlink swap does."""
    _atomic_write(path, token + "\n")


class Recorded:
    def __init__(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def subject(self) -> Optional[str]:
        return self.headers.get("x-requests-proxy-subject")

    @property
    def key(self) -> Optional[str]:
        return self.headers.get("idempotency-key")


class Upstream:
    """The platform's upstream on 127.0.0.1: records every request, answers 200 with a JSON body.

    ``script`` (a list of (status, headers) answers, consumed one per request) makes it answer
    something else first; ``on_request`` runs before each answer.
    """

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.script: List[tuple] = []
        self.on_request = None
        self._lock = threading.Lock()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with upstream._lock:
                    upstream.requests.append(record)
                    answer = upstream.script.pop(0) if upstream.script else (200, {})
                    hook = upstream.on_request
                if hook is not None:
                    hook(record)
                status, headers = answer
                content = json.dumps({"ok": status < 400, "attempt": len(upstream.requests)}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def received(self) -> List[Recorded]:
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def proxy_assembly() -> str:
    configured = os.environ.get("REQUESTS_PROXY_ASSEMBLY")
    if configured:
        if not os.path.isfile(configured):
            raise FileNotFoundError("REQUESTS_PROXY_ASSEMBLY=%s does not exist" % configured)
        return configured
    pattern = os.path.join(_REPO, "src", "RequestsProxy.Server", "bin", "*", "net*", "requests-proxy.dll")
    found = sorted(glob.glob(pattern), key=os.path.getmtime, reverse=True)
    if not found:
        raise FileNotFoundError(
            "requests-proxy.dll not found (%s); run `dotnet build src/RequestsProxy.Server` or set "
            "REQUESTS_PROXY_ASSEMBLY" % pattern)
    return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_LISTENING = re.compile(r"Now listening on: (https?://[^\s\"\\]+)")


class Proxy:
    """The real requests-proxy as a child process, on a fixed loopback port so it can come back."""

    def __init__(self, folder: str, upstream_url: str, keys: KeyRing, extra_env: Optional[Dict[str, str]] = None) -> None:
        self.folder = folder
        self.keys = keys
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        # /readyz and /metrics answer on the proxy's management port only.
        self.management_url = "http://127.0.0.1:%d" % free_port()
        self.extra_env = dict(extra_env or {})
        self.revoked = os.path.join(folder, "revoked")
        os.makedirs(self.revoked, exist_ok=True)
        _atomic_write(os.path.join(self.revoked, "revoked.json"), "[]")
        self.routes = os.path.join(folder, "routes.json")
        self.write_routes(upstream_url)
        self.process: Optional[subprocess.Popen] = None
        self.output: List[str] = []

    def write_routes(self, upstream_url: str, route_metadata: Optional[Dict[str, str]] = None) -> None:
        metadata = {"RequiredScope": SCOPE, "SubjectParameter": "sub"}
        metadata.update(route_metadata or {})
        _atomic_write(self.routes, json.dumps({"ReverseProxy": {
            "Routes": {"results": {"ClusterId": "edge", "Match": {"Path": "/v1/jobs/{sub}/results"}, "Metadata": metadata}},
            "Clusters": {"edge": {"Destinations": {"d": {"Address": upstream_url}}}},
        }}))

    def start(self, wait_ready: bool = True, timeout: float = 60.0) -> None:
        environment = dict(os.environ)
        environment.pop("ASPNETCORE_ENVIRONMENT", None)
        environment.update({
            "ASPNETCORE_URLS": self.url,
            "REQUESTS_PROXY_MANAGEMENT_URLS": self.management_url,
            "DOTNET_NOLOGO": "1",
            "REQUESTS_PROXY_STATELESS": "true",
            "REQUESTS_PROXY_KEYS_DIR": self.keys.path,
            "REQUESTS_PROXY_REVOKED_DIR": self.revoked,
            "REQUESTS_PROXY_KEYS_POLL_SECONDS": "1",
            "REQUESTS_PROXY_REVOKED_POLL_SECONDS": "1",
            "REQUESTS_PROXY_ROUTES_FILE": self.routes,
            "RELEASE_NAME": "python-tests",
            "NAMESPACE": "test",
        })
        environment.update(self.extra_env)
        dll = proxy_assembly()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()  # the killed one's pipe
        self.process = subprocess.Popen(
            ["dotnet", dll], cwd=os.path.dirname(dll), env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        listening = threading.Event()

        def pump(stream) -> None:
            for line in stream:
                self.output.append(line.rstrip("\n"))
                if _LISTENING.search(line):
                    listening.set()

        threading.Thread(target=pump, args=(self.process.stdout,), daemon=True).start()
        ends = time.monotonic() + timeout
        while not listening.wait(0.05):
            if self.process.poll() is not None:
                raise RuntimeError("requests-proxy exited with %s:\n%s" % (self.process.returncode, "\n".join(self.output)))
            if time.monotonic() > ends:
                raise TimeoutError("requests-proxy did not listen within %ss:\n%s" % (timeout, "\n".join(self.output)))
        if wait_ready:
            self.wait_ready(ends)

    def wait_ready(self, ends: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(self.management_url + "/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > ends:
                raise TimeoutError("requests-proxy not ready:\n%s" % "\n".join(self.output))
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as with an OOM kill or a lost node."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


class Folder:
    def __init__(self) -> None:
        self.path = tempfile.mkdtemp(prefix="rp-python-")

    def join(self, *parts: str) -> str:
        return os.path.join(self.path, *parts)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
