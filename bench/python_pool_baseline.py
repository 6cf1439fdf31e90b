#!/usr/bin/env python3
"""Benchmark 6's baseline: what an integration platform writes in Python.

A pool of 8 threads; for each Ainua credential file, authlib's OAuth2Session
(requests underneath) fetches a client-credentials token (client_secret_post)
and sends the same API probe credplug's test sends. Prints one JSON line:
{"ms": wall time, "ok": passed, "failed": failed}.

Usage: python_pool_baseline.py CA_BUNDLE ORIGIN THREADS FILE...
"""
import concurrent.futures
import json
import sys
import time

from authlib.integrations.requests_client import OAuth2Session


def test_one(path, ca_bundle, origin):
    with open(path, encoding="utf-8") as f:
        cred = json.load(f)
    with OAuth2Session(cred["client_id"], cred["client_secret"],
                       token_endpoint_auth_method="client_secret_post") as session:
        # verify= on each request: requests lets the environment override
        # Session.verify (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE).
        session.fetch_token(origin + "/realms/ncp/protocol/openid-connect/token",
                            grant_type="client_credentials", verify=ca_bundle)
        probe = session.request(cred.get("test_request_method", "GET"), origin + cred["test_request_path"],
                                data="[]", headers={"Content-Type": "application/json"}, verify=ca_bundle)
        return probe.status_code == 200


def main():
    ca_bundle, origin, threads, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    start = time.monotonic()
    ok = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for passed in pool.map(lambda p: test_one(p, ca_bundle, origin), files):
            ok, failed = ok + passed, failed + (not passed)
    print(json.dumps({"ms": (time.monotonic() - start) * 1000, "ok": ok, "failed": failed}))


if __name__ == "__main__":
    main()
