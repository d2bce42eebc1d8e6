"""The retry rules, each answer scripted by an HTTP server on 127.0.0.1 standing where the proxy
would (the real proxy cannot be made to answer 401 at the exact moment a token file changes).
Waits go through an injected ``sleep`` so the delays the client chose are checked, not timed.
"""

from __future__ import annotations

import email.utils
import os
import time
import unittest

import support
from requests_proxy_client import (
    Client,
    ConfigurationError,
    TokenFileError,
    backoff_delay,
    parse_retry_after,
)

_CHALLENGE = 'Bearer error="invalid_token", error_description="expired"'


class ScriptedAnswerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = support.Folder()
        self.server = support.Upstream()
        self.token_file = self.folder.join("token")
        support.write_token(self.token_file, "token-1")
        self.delays = []

    def tearDown(self) -> None:
        self.server.close()
        self.folder.remove()

    def client(self, **kwargs) -> Client:
        kwargs.setdefault("sleep", self.delays.append)
        kwargs.setdefault("rng", lambda: 0.0)
        return Client(self.server.url, self.token_file, **kwargs)

    def tokens_sent(self) -> list:
        return [r.headers["authorization"] for r in self.server.received()]

    def test_post_401AndTokenChangedOnDisk_retriedOnceWithNewToken(self) -> None:
        self.server.script = [(401, {"WWW-Authenticate": _CHALLENGE})]
        self.server.on_request = lambda _: support.write_token(self.token_file, "token-2")
        response = self.client().post("/v1/jobs/j/results", json={"epoch": 1})
        self.assertEqual(200, response.status)
        self.assertEqual(2, response.attempts)
        self.assertEqual(["Bearer token-1", "Bearer token-2"], self.tokens_sent())
        self.assertEqual([], self.delays, "a changed token is retried at once")

    def test_post_401Twice_tokenChangedEachTime_retriedOnlyOnce(self) -> None:
        self.server.script = [(401, {"WWW-Authenticate": _CHALLENGE})] * 2
        written = iter(["token-2", "token-3"])
        self.server.on_request = lambda _: support.write_token(self.token_file, next(written, "token-4"))
        response = self.client().post("/v1/jobs/j/results", json={})
        self.assertEqual(401, response.status)
        self.assertEqual(2, response.attempts)
        self.assertEqual("expired", response.error_description)

    def test_post_401TokenUnchanged_returnedAtOnce(self) -> None:
        self.server.script = [(401, {"WWW-Authenticate": _CHALLENGE})]
        response = self.client().post("/v1/jobs/j/results", json={})
        self.assertEqual((401, 1), (response.status, response.attempts))

    def test_post_429WithRetryAfter_waitsThatLongWithTheSameKey(self) -> None:
        self.server.script = [(429, {"Retry-After": "2"}), (503, {"Retry-After": "1"})]
        response = self.client().post("/v1/jobs/j/results", json={"epoch": 3})
        self.assertEqual((200, 3), (response.status, response.attempts))
        self.assertEqual([2.0, 1.0], self.delays)
        keys = {r.key for r in self.server.received()}
        self.assertEqual({response.idempotency_key}, keys)

    def test_post_retryAfterJitter_neverSoonerThanAsked(self) -> None:
        self.server.script = [(429, {"Retry-After": "3"})]
        self.client(rng=lambda: 0.999).post("/v1/jobs/j/results", json={})
        [delay] = self.delays
        self.assertGreaterEqual(delay, 3.0)
        self.assertLessEqual(delay, 3.3)

    def test_post_retryAfterHttpDate_waitsUntilThen(self) -> None:
        when = email.utils.formatdate(time.time() + 30, usegmt=True)
        self.server.script = [(503, {"Retry-After": when})]
        self.client().post("/v1/jobs/j/results", json={})
        [delay] = self.delays
        self.assertTrue(27 <= delay <= 31, delay)

    def test_post_503WithoutRetryAfter_backsOff(self) -> None:
        self.server.script = [(503, {}), (502, {}), (504, {})]
        response = self.client(backoff_base=0.1).post("/v1/jobs/j/results", json={})
        self.assertEqual((200, 4), (response.status, response.attempts))
        self.assertEqual([0.05, 0.1, 0.2], [round(d, 6) for d in self.delays])

    def test_post_retryAfterBeyondDeadline_returnsTheAnswerWithoutWaiting(self) -> None:
        self.server.script = [(429, {"Retry-After": "600"})]
        response = self.client(deadline=30).post("/v1/jobs/j/results", json={})
        self.assertEqual((429, 1), (response.status, response.attempts))
        self.assertEqual([], self.delays)

    def test_post_retryAfterHuge_cappedAtMaximum(self) -> None:
        self.server.script = [(503, {"Retry-After": "100000"})]
        self.client(deadline=1000, max_retry_after=120).post("/v1/jobs/j/results", json={})
        self.assertEqual([120.0], self.delays)

    def test_post_clientErrors_notRetried(self) -> None:
        for status in (400, 403, 404, 409, 413, 500):
            with self.subTest(status=status):
                before = len(self.server.received())
                self.server.script = [(status, {})]
                response = self.client().post("/v1/jobs/j/results", json={})
                self.assertEqual((status, 1), (response.status, response.attempts))
                self.assertEqual(before + 1, len(self.server.received()))

    def test_post_callerHeaders_sentButAuthorizationRefused(self) -> None:
        self.client().post("/v1/jobs/j/results", json={}, headers={"X-Run": "7"})
        self.assertEqual("7", self.server.received()[0].headers["x-run"])
        with self.assertRaises(ValueError):
            self.client().post("/v1/jobs/j/results", json={}, headers={"Authorization": "Bearer x"})

    def test_get_queryAndPathPrefix_kept(self) -> None:
        client = Client(self.server.url + "/prefix/", self.token_file)
        client.get("/v1/status?full=1")
        self.assertEqual("/prefix/v1/status?full=1", self.server.received()[0].path)


class EnvironmentTests(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = support.Folder()
        self.server = support.Upstream()

    def tearDown(self) -> None:
        self.server.close()
        self.folder.remove()

    def test_request_environmentReadPerAttempt(self) -> None:
        environ = {}
        client = Client(environ=environ)
        with self.assertRaisesRegex(ConfigurationError, "REQUESTS_PROXY_URL"):
            client.post("/x", json={})
        environ["REQUESTS_PROXY_URL"] = self.server.url
        with self.assertRaisesRegex(ConfigurationError, "REQUESTS_PROXY_TOKEN_FILE"):
            client.post("/x", json={})
        environ["REQUESTS_PROXY_TOKEN"] = "from-env"
        self.assertEqual(200, client.post("/x", json={}).status)
        self.assertEqual("Bearer from-env", self.server.received()[-1].headers["authorization"])

    def test_request_tokenFileWinsOverTokenVariable(self) -> None:
        token_file = self.folder.join("token")
        support.write_token(token_file, "from-file")
        client = Client(environ={"REQUESTS_PROXY_URL": self.server.url, "REQUESTS_PROXY_TOKEN_FILE": token_file,
                                 "REQUESTS_PROXY_TOKEN": "from-env"})
        client.post("/x", json={})
        self.assertEqual("Bearer from-file", self.server.received()[-1].headers["authorization"])

    def test_request_tokenFileMissing_tokenFileErrorNamingIt(self) -> None:
        missing = self.folder.join("nothing-here")
        with self.assertRaises(TokenFileError) as raised:
            Client(self.server.url, missing).post("/x", json={})
        self.assertIn(missing, str(raised.exception))
        self.assertEqual([], self.server.received())

    def test_request_tokenFileEmpty_tokenFileError(self) -> None:
        empty = self.folder.join("empty")
        open(empty, "w").close()
        with self.assertRaisesRegex(TokenFileError, "empty"):
            Client(self.server.url, empty).post("/x", json={})

    def test_request_absoluteUrlPath_refused(self) -> None:
        with self.assertRaises(ValueError):
            Client(self.server.url, token_file=os.devnull).post("http://elsewhere/x", json={})


class BackoffTests(unittest.TestCase):
    def test_backoffDelay_growsThenCaps(self) -> None:
        steps = [backoff_delay(n, 0.1, 2.0, lambda: 1.0) for n in range(8)]
        self.assertEqual([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0], [round(s, 6) for s in steps])

    def test_backoffDelay_jitterBetweenHalfAndFullStep(self) -> None:
        self.assertEqual(0.4, backoff_delay(2, 0.1, 5.0, lambda: 0.0) * 2)
        self.assertEqual(0.4, round(backoff_delay(2, 0.1, 5.0, lambda: 1.0), 6))

    def test_backoffDelay_hugeFailureCount_noOverflow(self) -> None:
        self.assertEqual(5.0, backoff_delay(10_000, 0.1, 5.0, lambda: 1.0))

    def test_parseRetryAfter_formats(self) -> None:
        self.assertEqual(7.0, parse_retry_after("7"))
        self.assertEqual(0.0, parse_retry_after(email.utils.formatdate(0, usegmt=True), now=100.0))
        self.assertEqual(60.0, parse_retry_after(email.utils.formatdate(160, usegmt=True), now=100.0))
        for bad in (None, "", "soon", "-1", "1.5"):
            with self.subTest(value=bad):
                self.assertIsNone(parse_retry_after(bad))


if __name__ == "__main__":
    unittest.main()
