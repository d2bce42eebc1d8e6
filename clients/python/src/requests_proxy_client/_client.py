"""The client contract of requests-proxy (docs/client-contract.md), in the standard library.

Per attempt the client reads ``REQUESTS_PROXY_URL`` and the token file named by
``REQUESTS_PROXY_TOKEN_FILE`` (the jobs-manager rewrites it on refresh and key rotation).
One logical request keeps one ``Idempotency-Key`` on every attempt, so an upstream that
de-duplicates by subject + key counts it once even when a retry follows a request that did
arrive (the proxy was killed after relaying it, before answering).
"""

from __future__ import annotations

import email.utils
import http.client
import json as _json
import logging
import os
import random
import time
import urllib.parse
import uuid
from typing import Any, Callable, Mapping, Optional

__all__ = [
    "Client",
    "ConfigurationError",
    "HTTPStatusError",
    "ProxyUnavailableError",
    "Response",
    "TokenFileError",
    "URL_VARIABLE",
    "TOKEN_FILE_VARIABLE",
    "TOKEN_VARIABLE",
]

URL_VARIABLE = "REQUESTS_PROXY_URL"
TOKEN_FILE_VARIABLE = "REQUESTS_PROXY_TOKEN_FILE"
#: A token in the environment, for clients that cannot read files: it never refreshes.
TOKEN_VARIABLE = "REQUESTS_PROXY_TOKEN"
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: Answers that say "not now": wait (Retry-After when given) and send the same request again.
#: 502/504 mean the proxy could not reach the upstream or it timed out; the request may have
#: arrived, which the Idempotency-Key makes safe to repeat.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

_log = logging.getLogger("requests_proxy_client")
# A library logs; the application decides where to (retries are warnings, 401 retries info).
_log.addHandler(logging.NullHandler())


class ConfigurationError(RuntimeError):
    """The pod's environment does not say where the proxy is or where the token is."""


class TokenFileError(ConfigurationError):
    """The token file cannot be read (not mounted, or removed because the job is stopping)."""


class ProxyUnavailableError(ConnectionError):
    """No HTTP answer from the proxy before the deadline: every attempt failed to connect or read."""

    def __init__(self, message: str, attempts: int, idempotency_key: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.idempotency_key = idempotency_key


class HTTPStatusError(RuntimeError):
    """Raised by :meth:`Response.raise_for_status` for a final answer that is not 2xx."""

    def __init__(self, response: "Response") -> None:
        reason = response.error_description
        super().__init__(
            "HTTP %d from %s %s%s"
            % (response.status, response.method, response.url, " (%s)" % reason if reason else "")
        )
        self.response = response


class Response:
    """The final answer to one logical request."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        reason: str,
        headers: http.client.HTTPMessage,
        body: bytes,
        attempts: int,
        idempotency_key: str,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.reason = reason
        #: Case-insensitive: ``response.headers.get("Retry-After")``.
        self.headers = headers
        self.body = body
        #: How many times the request was sent (1 when it was answered at once).
        self.attempts = attempts
        self.idempotency_key = idempotency_key

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return _json.loads(self.body.decode("utf-8"))

    @property
    def error_description(self) -> Optional[str]:
        """The proxy's reason (``expired``, ``revoked``, ``rate_limited``…), from the header or JSON body."""
        challenge = self.headers.get("WWW-Authenticate") or ""
        marker = 'error_description="'
        at = challenge.find(marker)
        if at >= 0:
            end = challenge.find('"', at + len(marker))
            if end > at:
                return challenge[at + len(marker):end]
        try:
            document = self.json()
        except ValueError:
            return None
        if isinstance(document, dict):
            for key in ("reason", "error_description", "error"):
                if isinstance(document.get(key), str):
                    return document[key]
        return None

    def raise_for_status(self) -> "Response":
        if not self.ok:
            raise HTTPStatusError(self)
        return self

    def __repr__(self) -> str:
        return "<Response %d %s %s attempts=%d>" % (self.status, self.method, self.url, self.attempts)


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date); None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(failures: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff capped at ``cap``, with "equal jitter": between half and all of the step.

    Jitter spreads the retries of many pods that lost the same proxy at the same moment.
    """
    step = min(cap, base * (2 ** min(failures, 32)))
    return step / 2 + rng() * step / 2


class Client:
    """Sends requests to requests-proxy under the client contract.

    Every argument is optional: by default the proxy's address and the token are read from the
    pod's environment on every attempt. ``deadline`` bounds the whole logical request
    (retries included); ``timeout`` bounds each attempt's connect and each read.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token_file: Optional[str] = None,
        *,
        deadline: float = 300.0,
        timeout: float = 30.0,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        max_retry_after: float = 120.0,
        user_agent: str = "requests-proxy-client-python/0.1",
        environ: Optional[Mapping[str, str]] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if deadline <= 0 or timeout <= 0:
            raise ValueError("deadline and timeout must be positive numbers of seconds")
        self._base_url = base_url
        self._token_file = token_file
        self.deadline = deadline
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.user_agent = user_agent
        self._environ = environ
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    # -- the verbs -------------------------------------------------------------------------

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Response:
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        idempotency_key: Optional[str] = None,
        deadline: Optional[float] = None,
    ) -> Response:
        """Sends one logical request, retrying under the contract; returns the final answer.

        Raises :class:`ProxyUnavailableError` when no attempt got an HTTP answer before the
        deadline, and :class:`ConfigurationError` when the environment lacks the proxy's URL or
        the token. Any HTTP answer, including a 4xx, is returned: see ``raise_for_status``.
        """
        if json is not None and data is not None:
            raise ValueError("pass json or data, not both")
        body = data
        send_headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if json is not None:
            body = _json.dumps(json, separators=(",", ":")).encode("utf-8")
            send_headers["Content-Type"] = "application/json"
        for name, value in (headers or {}).items():
            if name.lower() in ("authorization", IDEMPOTENCY_HEADER.lower()):
                raise ValueError("%s is set by the client; pass idempotency_key= for the key" % name)
            send_headers[name] = value
        key = idempotency_key or uuid.uuid4().hex
        send_headers[IDEMPOTENCY_HEADER] = key

        ends = self._clock() + (self.deadline if deadline is None else deadline)
        attempts = 0
        failures = 0
        retried_unauthorized = False
        while True:
            attempts += 1
            url = self._url(path)
            token = self._token()
            try:
                response = self._send(method, url, token, send_headers, body, attempts, key)
            except (OSError, http.client.HTTPException) as error:
                # Refused, reset, timed out, or the proxy vanished mid-answer (SIGKILL): the
                # request may or may not have been relayed; the same key makes a retry safe.
                delay = backoff_delay(failures, self.backoff_base, self.backoff_cap, self._rng)
                failures += 1
                if self._clock() + delay >= ends:
                    raise ProxyUnavailableError(
                        "no answer from %s after %d attempts: %s" % (url, attempts, error), attempts, key
                    ) from error
                _log.warning("%s %s: %s; retry %d in %.2fs", method, url, error, attempts, delay)
                self._sleep(delay)
                continue

            if response.status == 401 and not retried_unauthorized:
                # The token may have been refreshed between our read and the proxy's check.
                if self._token() != token:
                    retried_unauthorized = True
                    _log.info("%s %s: 401 and the token file changed; retrying once", method, url)
                    continue
                return response

            if response.status in RETRYABLE_STATUSES:
                delay = parse_retry_after(response.headers.get("Retry-After"))
                if delay is None:
                    delay = backoff_delay(failures, self.backoff_base, self.backoff_cap, self._rng)
                else:
                    # Never sooner than asked; a little later so pods told the same second spread out.
                    delay = min(delay, self.max_retry_after)
                    delay += self._rng() * min(1.0, delay * 0.1)
                failures += 1
                if self._clock() + delay >= ends:
                    return response
                _log.info("%s %s: %d (%s); retry %d in %.2fs", method, url, response.status,
                          response.error_description, attempts, delay)
                self._sleep(delay)
                continue

            return response

    # -- one attempt ---------------------------------------------------------------------

    def _env(self, name: str) -> Optional[str]:
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(name)
        return value.strip() if value and value.strip() else None

    def _url(self, path: str) -> str:
        base = self._base_url or self._env(URL_VARIABLE)
        if base is None:
            raise ConfigurationError("%s is not set: where is requests-proxy?" % URL_VARIABLE)
        if "://" in path:
            raise ValueError("path must be relative to the proxy (%s), not the URL %r" % (URL_VARIABLE, path))
        return base.rstrip("/") + "/" + path.lstrip("/")

    def _token(self) -> str:
        path = self._token_file or self._env(TOKEN_FILE_VARIABLE)
        if path is None:
            token = self._env(TOKEN_VARIABLE)
            if token is None:
                raise ConfigurationError("neither %s nor %s is set" % (TOKEN_FILE_VARIABLE, TOKEN_VARIABLE))
            return token
        try:
            with open(path, encoding="ascii") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise TokenFileError("cannot read the token file %s: %s" % (path, error)) from error
        if not token:
            raise TokenFileError("the token file %s is empty" % path)
        return token

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        headers: Mapping[str, str],
        body: Optional[bytes],
        attempt: int,
        key: str,
    ) -> Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout)
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        else:
            raise ConfigurationError("%s must be an http(s) URL, not %r" % (URL_VARIABLE, url))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            all_headers = dict(headers)
            all_headers["Authorization"] = "Bearer " + token
            connection.request(method, target, body=body, headers=all_headers)
            answer = connection.getresponse()
            content = answer.read()
            return Response(method, url, answer.status, answer.reason, answer.headers, content, attempt, key)
        finally:
            connection.close()
