#!/usr/bin/env python3
"""Rewrites a revoked.json once a second for SECONDS seconds, atomically (write, then rename, as the
kubelet swaps a ConfigMap volume), changing the first entry's jti each time so that every poll of
the proxy finds new content and parses the whole list. Bounded by SECONDS.

usage: rewrite_revoked.py PATH SECONDS TAG
"""
import json
import os
import sys
import time


def main() -> int:
    path, seconds, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        entries = json.load(f)
    for i in range(seconds):
        entries[0]["jti"] = "rewrite-%s-%d" % (tag, i)
        with open(path + ".next", "w") as f:
            json.dump(entries, f)
        os.replace(path + ".next", path)
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
