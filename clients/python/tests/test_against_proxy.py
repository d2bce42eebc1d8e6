"""The client against the real requests-proxy process and a real upstream, on 127.0.0.1."""

from __future__ import annotations

import threading
import time
import unittest

import support
from requests_proxy_client import Client, ProxyUnavailableError


class AgainstRunningProxyTests(unittest.TestCase):
    """One proxy for the class; each test uses its own job (sub) and token file."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.folder = support.Folder()
        cls.upstream = support.Upstream()
        cls.keys = support.KeyRing(cls.folder.join("keys"))
        cls.proxy = support.Proxy(cls.folder.path, cls.upstream.url, cls.keys)
        cls.proxy.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.proxy.stop()
        cls.upstream.close()
        cls.folder.remove()

    def client_for(self, sub: str, **kwargs) -> tuple:
        token_file = self.folder.join("token-" + sub)
        support.write_token(token_file, self.keys.mint(sub))
        environ = {"REQUESTS_PROXY_URL": self.proxy.url, "REQUESTS_PROXY_TOKEN_FILE": token_file}
        return Client(environ=environ, **kwargs), token_file

    def received_by(self, sub: str) -> list:
        return [r for r in self.upstream.received() if r.subject == sub]

    def test_post_validToken_relayedWithIdentityAndOneKey(self) -> None:
        client, _ = self.client_for("job-relay")
        response = client.post("/v1/jobs/job-relay/results", json={"epoch": 1, "loss": 0.5})
        self.assertEqual(200, response.status, response.text)
        self.assertEqual(1, response.attempts)
        [seen] = self.received_by("job-relay")
        self.assertEqual("POST", seen.method)
        self.assertEqual(b'{"epoch":1,"loss":0.5}', seen.body)
        self.assertEqual("application/json", seen.headers["content-type"])
        self.assertRegex(seen.key, r"^[0-9a-f]{32}$")
        self.assertEqual(response.idempotency_key, seen.key)
        self.assertNotIn("authorization", seen.headers, "the pod's token must not reach the upstream")

    def test_post_callerKey_relayedUntouched(self) -> None:
        client, _ = self.client_for("job-key")
        key = "Epoch-7/Step 9;a=b,c"  # any visible ASCII; the proxy must not rewrite it
        response = client.post("/v1/jobs/job-key/results", json={"epoch": 7}, idempotency_key=key)
        self.assertEqual(200, response.status, response.text)
        [seen] = self.received_by("job-key")
        self.assertEqual(key, seen.key)

    def test_post_twoLogicalRequests_twoKeys(self) -> None:
        client, _ = self.client_for("job-two")
        first = client.post("/v1/jobs/job-two/results", json={"epoch": 1})
        second = client.post("/v1/jobs/job-two/results", json={"epoch": 2})
        self.assertNotEqual(first.idempotency_key, second.idempotency_key)
        self.assertEqual([first.idempotency_key, second.idempotency_key], [r.key for r in self.received_by("job-two")])

    def test_post_tokenFileRewritten_nextRequestSendsNewToken(self) -> None:
        client, token_file = self.client_for("job-refresh")
        with open(token_file) as handle:
            first_token = handle.read().strip()
        client.post("/v1/jobs/job-refresh/results", json={"epoch": 1}).raise_for_status()
        refreshed = self.keys.mint("job-refresh")
        support.write_token(token_file, refreshed)
        client.post("/v1/jobs/job-refresh/results", json={"epoch": 2}).raise_for_status()
        jtis = [r.headers["x-requests-proxy-jti"] for r in self.received_by("job-refresh")]
        self.assertEqual([support.jti_of(first_token), support.jti_of(refreshed)], jtis)

    def test_post_invalidTokenUnchangedOnDisk_401AfterOneAttempt(self) -> None:
        client, token_file = self.client_for("job-expired")
        support.write_token(token_file, self.keys.mint("job-expired", ttl=-3600))
        response = client.post("/v1/jobs/job-expired/results", json={"epoch": 1})
        self.assertEqual(401, response.status)
        self.assertEqual(1, response.attempts)
        self.assertEqual("expired", response.error_description)
        self.assertEqual([], self.received_by("job-expired"))

    def test_post_otherJobsPath_403NotRetried(self) -> None:
        client, _ = self.client_for("job-mine")
        response = client.post("/v1/jobs/job-theirs/results", json={"epoch": 1})
        self.assertEqual(403, response.status)
        self.assertEqual(1, response.attempts)


class ProxyLifecycleTests(unittest.TestCase):
    """Each test owns its proxy: it is started late, not ready, or killed."""

    def setUp(self) -> None:
        self.folder = support.Folder()
        self.upstream = support.Upstream()
        self.proxy: support.Proxy = None  # type: ignore[assignment]

    def tearDown(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        self.upstream.close()
        self.folder.remove()

    def test_post_proxyNotReady_waitsRetryAfterThenDelivered(self) -> None:
        keys = support.KeyRing(self.folder.join("keys"), populated=False)
        self.proxy = support.Proxy(self.folder.path, self.upstream.url, keys)
        self.proxy.start(wait_ready=False)
        key = support.KeyRing.generate()
        keys.keys["v1"] = key  # known to the test now, written to the proxy's folder later
        token_file = self.folder.join("token")
        support.write_token(token_file, keys.mint("job-early"))
        delays = []

        def sleep(seconds: float) -> None:
            delays.append(seconds)
            if len(delays) == 2:
                keys.write("v1", key)  # the keys Secret arrives; the proxy polls every second
            time.sleep(seconds)

        client = Client(self.proxy.url, token_file, sleep=sleep, deadline=60)
        response = client.post("/v1/jobs/job-early/results", json={"epoch": 0})
        self.assertEqual(200, response.status, response.text)
        self.assertGreaterEqual(response.attempts, 3)
        # The proxy said Retry-After: 1 on its 503 not_ready; the client waited at least that.
        self.assertTrue(all(d >= 1.0 for d in delays), delays)
        self.assertEqual([response.idempotency_key], [r.key for r in self.upstream.received()])

    def test_post_overTheJobsRateLimit_waitsRetryAfterThenDelivered(self) -> None:
        keys = support.KeyRing(self.folder.join("keys"))
        self.proxy = support.Proxy(self.folder.path, self.upstream.url, keys, extra_env={
            "REQUESTS_PROXY_RATE_LIMIT_PER_SECOND": "0.5", "REQUESTS_PROXY_RATE_LIMIT_BURST": "1"})
        self.proxy.start()
        token_file = self.folder.join("token")
        support.write_token(token_file, keys.mint("job-busy"))
        delays = []

        def sleep(seconds: float) -> None:
            delays.append(seconds)
            time.sleep(seconds)

        client = Client(self.proxy.url, token_file, sleep=sleep, deadline=30)
        first = client.post("/v1/jobs/job-busy/results", json={"epoch": 1})
        self.assertEqual((200, 1), (first.status, first.attempts))
        # The next post finds the bucket empty unless 2 s passed since the first (a loaded machine
        # can take that long between two posts): post again, a bounded number of times, until one
        # met the limit.
        sent = [first]
        for epoch in range(2, 7):
            sent.append(client.post("/v1/jobs/job-busy/results", json={"epoch": epoch}))
            self.assertEqual(200, sent[-1].status, sent[-1].text)
            if sent[-1].attempts >= 2:
                break

        self.assertGreaterEqual(sent[-1].attempts, 2, "five posts in a row never met a 0.5/s limit")
        self.assertGreaterEqual(delays[0], 1.0, "the 429 said Retry-After: 1 or 2")
        self.assertEqual([r.idempotency_key for r in sent], [r.key for r in self.upstream.received()])

    def test_post_nothingListening_raisesUnavailableAtDeadline(self) -> None:
        url = "http://127.0.0.1:%d" % support.free_port()
        token_file = self.folder.join("token")
        support.write_token(token_file, "not.a.token")
        client = Client(url, token_file, deadline=1.0, backoff_base=0.05, backoff_cap=0.2)
        started = time.monotonic()
        with self.assertRaises(ProxyUnavailableError) as raised:
            client.post("/v1/jobs/job-x/results", json={})
        self.assertGreater(raised.exception.attempts, 2)
        self.assertLess(time.monotonic() - started, 5.0)

    def test_post_proxyStartsLate_connectionErrorsRetriedThenDelivered(self) -> None:
        keys = support.KeyRing(self.folder.join("keys"))
        self.proxy = support.Proxy(self.folder.path, self.upstream.url, keys)
        token_file = self.folder.join("token")
        support.write_token(token_file, keys.mint("job-late"))
        starter = threading.Timer(1.0, self.proxy.start, kwargs={"wait_ready": False})
        starter.start()
        try:
            response = Client(self.proxy.url, token_file, deadline=60, backoff_cap=0.5).post(
                "/v1/jobs/job-late/results", json={"epoch": 0})
        finally:
            starter.join()
        self.assertEqual(200, response.status, response.text)
        self.assertGreater(response.attempts, 1)
        self.assertEqual([response.idempotency_key], [r.key for r in self.upstream.received()])

    def test_post_proxySigkilledAndRestarted_everyResultDeliveredUnderItsOwnKey(self) -> None:
        keys = support.KeyRing(self.folder.join("keys"))
        self.proxy = support.Proxy(self.folder.path, self.upstream.url, keys)
        self.proxy.start()
        token_file = self.folder.join("token")
        support.write_token(token_file, keys.mint("job-kill"))
        client = Client(self.proxy.url, token_file, deadline=60, backoff_cap=0.5)
        total = 40
        answers = []

        def train() -> None:
            for epoch in range(total):
                answers.append(client.post("/v1/jobs/job-kill/results", json={"epoch": epoch}))
                time.sleep(0.02)

        worker = threading.Thread(target=train)
        worker.start()
        while len(answers) < total // 3 and worker.is_alive():
            time.sleep(0.01)
        self.proxy.kill()
        time.sleep(0.5)
        self.proxy.start(wait_ready=False)
        worker.join(timeout=120)
        self.assertFalse(worker.is_alive())

        self.assertEqual([200] * total, [a.status for a in answers])
        self.assertGreater(max(a.attempts for a in answers), 1, "the kill should have cost a retry")
        keys_sent = [a.idempotency_key for a in answers]
        self.assertEqual(total, len(set(keys_sent)))
        received = [r.key for r in self.upstream.received()]
        # Every logical request arrived; a retry after a relayed-but-unanswered request arrives
        # again under the same key, which an upstream de-duplicating by key counts once.
        self.assertEqual(set(keys_sent), set(received))


if __name__ == "__main__":
    unittest.main()
