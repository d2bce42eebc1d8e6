#!/usr/bin/env python3
"""COUNT distinct valid HS256 tokens (as the jobs-manager mints them: one sub and jti each), one a line.

usage: make_tokens.py KEY COUNT > tokens.txt
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main() -> int:
    key, count = sys.argv[1].encode("ascii"), int(sys.argv[2])
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "v1"}, separators=(",", ":")).encode())
    now = int(time.time())
    out = sys.stdout
    for i in range(count):
        payload = b64url(json.dumps({
            "iss": "jobs-manager", "aud": "requests-proxy", "sub": "job-%06d" % i, "jti": b64url(os.urandom(16)),
            "iat": now, "nbf": now, "exp": now + 3600, "scope": "results:write flops:write",
        }, separators=(",", ":")).encode())
        signing_input = header + "." + payload
        signature = b64url(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())
        out.write(signing_input + "." + signature + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
