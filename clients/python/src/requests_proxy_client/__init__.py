"""requests-proxy's client for training pods (standard library only).

    import requests_proxy_client as rp

    rp.post("/v1/jobs/%s/results" % job, json={"epoch": 3, "loss": 0.12}).raise_for_status()

The module-level functions use one default :class:`Client` that reads ``REQUESTS_PROXY_URL``
and ``REQUESTS_PROXY_TOKEN_FILE`` on every attempt. See docs/client-contract.md.
"""

from __future__ import annotations

from typing import Any, Optional

from ._client import (
    IDEMPOTENCY_HEADER,
    RETRYABLE_STATUSES,
    TOKEN_FILE_VARIABLE,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    Client,
    ConfigurationError,
    HTTPStatusError,
    ProxyUnavailableError,
    Response,
    TokenFileError,
    backoff_delay,
    parse_retry_after,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "ConfigurationError",
    "HTTPStatusError",
    "IDEMPOTENCY_HEADER",
    "ProxyUnavailableError",
    "RETRYABLE_STATUSES",
    "Response",
    "TOKEN_FILE_VARIABLE",
    "TOKEN_VARIABLE",
    "TokenFileError",
    "URL_VARIABLE",
    "backoff_delay",
    "delete",
    "get",
    "parse_retry_after",
    "patch",
    "post",
    "put",
    "request",
]

_default: Optional[Client] = None


def _client() -> Client:
    # Holds no per-request state (the environment is read per attempt), so one is shared.
    global _default
    if _default is None:
        _default = Client()
    return _default


def request(method: str, path: str, **kwargs: Any) -> Response:
    return _client().request(method, path, **kwargs)


def post(path: str, json: Any = None, **kwargs: Any) -> Response:
    return _client().post(path, json=json, **kwargs)


def put(path: str, json: Any = None, **kwargs: Any) -> Response:
    return _client().put(path, json=json, **kwargs)


def patch(path: str, json: Any = None, **kwargs: Any) -> Response:
    return _client().patch(path, json=json, **kwargs)


def get(path: str, **kwargs: Any) -> Response:
    return _client().get(path, **kwargs)


def delete(path: str, **kwargs: Any) -> Response:
    return _client().delete(path, **kwargs)
