#!/usr/bin/env python3
"""Benchmark 11: credplug from Python, beside what a Python platform uses
today, in the same run against the emulator (its own TLS, a CA made here).

  11a  a cached token's headers, one thread: credplug's `cred.headers()`
       (and awaited: `headers_async()`);
       the same through ctypes over the C API (what a platform wrote before
       the package); authlib's OAuth2Session token check and header
       (`OAuth2Auth.ensure_active_token()` + `prepare()`).
  11b  auth applied to a requests.PreparedRequest: credplug.auth.RequestsAuth
       beside authlib's OAuth2Auth (what `session.request` runs each time).
  11c  16 threads of `requests` calling the API: with RequestsAuth, and
       without an adapter (the token attached as a fixed header).

Usage: python_bench.py BUILD_DIR [--calls N] [--runs R] [--requests M] [--smoke]
Prints a table; the figures are each run's median.
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes as C
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("build")
parser.add_argument("--calls", type=int, default=300_000)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--requests", type=int, default=200, help="per thread, in 11c")
parser.add_argument("--smoke", action="store_true", help="few calls; check correctness, not speed")
args = parser.parse_args()
if args.smoke:
    args.calls, args.runs, args.requests = 2000, 1, 5
sys.path.insert(0, os.path.join(args.build, "python"))

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402

import credplug  # noqa: E402
from credplug.auth import RequestsAuth  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from emulator_process import start_emulator  # noqa: E402

work = tempfile.mkdtemp(prefix="credplug-pybench-")
secret = "bench-" + secrets.token_hex(8)
emulator = start_emulator(os.path.join(args.build, "bin"), work, ["ainua:bench"], secret)
origin = emulator.origin
ca = emulator.ca_file
api = origin + "/api/integrations/v1/items"
token_url = origin + "/realms/ncp/protocol/openid-connect/token"
credential = {"ainua_url": origin, "client_id": "bench", "client_secret": secret}


def count(endpoint: str) -> int:
    return json.loads(requests.get(origin + "/_emulator/count?endpoint=" + endpoint, verify=ca).text)["count"]


def per_call_ns(body, calls: int) -> float:
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        body(calls)
        runs.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(runs)


def ctypes_headers(lib_path: str, plugin_dir: str):
    """What a platform wrote before the package: the C API through ctypes."""
    lib = C.CDLL(lib_path)
    P = C.c_void_p
    lib.credplug_host_options_init_sized.argtypes = [P, C.c_size_t]
    lib.credplug_host_new.argtypes = [P, C.POINTER(P), C.POINTER(P)]
    lib.credplug_open.argtypes = [P, C.c_char_p, C.c_char_p, C.c_size_t, C.POINTER(P), C.POINTER(P)]
    lib.credplug_headers_get.argtypes = [P, C.POINTER(P), C.POINTER(P)]
    lib.credplug_headers_count.argtypes = [P]
    lib.credplug_headers_count.restype = C.c_size_t
    lib.credplug_headers_name.argtypes = lib.credplug_headers_value.argtypes = [P, C.c_size_t]
    lib.credplug_headers_name.restype = lib.credplug_headers_value.restype = C.c_char_p
    lib.credplug_headers_release.argtypes = [P]
    options = C.create_string_buffer(1024)  # larger than the struct: init_sized fills what it knows
    lib.credplug_host_options_init_sized(options, 1024)
    # plugin_dirs is the second field (after struct_size and padding); ca_file the fifth.
    dirs = (C.c_char_p * 2)(plugin_dir.encode(), None)
    C.cast(C.addressof(options) + 8, C.POINTER(P))[0] = C.cast(dirs, P)
    ca_bytes = C.c_char_p(ca.encode())
    C.cast(C.addressof(options) + 24, C.POINTER(P))[0] = C.cast(ca_bytes, P)
    host, cred, err = P(), P(), P()
    assert lib.credplug_host_new(options, C.byref(host), C.byref(err)) == 0
    text = json.dumps(credential).encode()
    assert lib.credplug_open(host, b"ainua", text, len(text), C.byref(cred), C.byref(err)) == 0
    keep = (dirs, ca_bytes)

    def headers() -> dict:
        h = P()
        if lib.credplug_headers_get(cred, C.byref(h), None) != 0:
            raise RuntimeError("credplug_headers_get")
        out = {lib.credplug_headers_name(h, i).decode(): lib.credplug_headers_value(h, i).decode()
               for i in range(lib.credplug_headers_count(h))}
        lib.credplug_headers_release(h)
        return out

    return headers, keep


plugin_dir = os.path.join(args.build, "lib", "credplug", "plugins")
rows = []
try:
    with credplug.Host(plugin_dirs=[plugin_dir], use_environment=False, use_default_dir=False, ca_file=ca,
                       isolation="in-process") as host, host.open("ainua", credential) as cred:
        first = cred.headers()
        assert first["Authorization"].startswith("Bearer ")

        def credplug_loop(n: int) -> None:
            headers = cred.headers
            for _ in range(n):
                headers()

        def credplug_attach_loop(n: int) -> None:
            headers = cred.headers
            for _ in range(n):
                out = {"Accept": "application/json"}
                out.update(headers())

        ctypes_call, _keep = ctypes_headers(os.path.join(args.build, "lib", "libcredplug-host.so"), plugin_dir)
        assert ctypes_call()["Authorization"].startswith("Bearer ")

        def ctypes_loop(n: int) -> None:
            for _ in range(n):
                ctypes_call()

        session = OAuth2Session("bench", secret, token_endpoint_auth_method="client_secret_post")
        session.fetch_token(token_url, grant_type="client_credentials", verify=ca)
        authlib_auth = session.token_auth

        def authlib_loop(n: int) -> None:
            for _ in range(n):
                authlib_auth.ensure_active_token()
                authlib_auth.prepare(api, {"Accept": "application/json"}, None)

        def credplug_async_loop(n: int) -> None:
            async def main() -> None:
                headers_async = cred.headers_async
                for _ in range(n):
                    await headers_async()
            asyncio.run(main())

        tokens_before = count("ainua.token")
        a = per_call_ns(credplug_loop, args.calls)
        a2 = per_call_ns(credplug_attach_loop, args.calls)
        a3 = per_call_ns(credplug_async_loop, args.calls // 10)
        assert count("ainua.token") == tokens_before, "a cached headers() asked for a token"
        b = per_call_ns(ctypes_loop, args.calls // 10)
        c = per_call_ns(authlib_loop, args.calls // 10)
        rows += [("11a", "credplug `cred.headers()` (cached)", f"{a:.0f} ns"),
                 ("11a", "credplug `headers()` attached to a dict", f"{a2:.0f} ns"),
                 ("11a", "credplug `await cred.headers_async()` (cached)", f"{a3:.0f} ns"),
                 ("11a", "the C API through ctypes (before the package)", f"{b:.0f} ns"),
                 ("11a", "authlib OAuth2Auth token check + header", f"{c:.0f} ns")]

        def prepared() -> requests.PreparedRequest:
            return requests.Request("PATCH", api, data=b"[]", headers={"Content-Type": "application/json"}).prepare()

        credplug_auth = RequestsAuth(cred)
        pre = [prepared() for _ in range(args.calls // 10)]

        def apply(auth):
            def loop(n: int) -> None:
                for r in pre[:n]:
                    r.hooks = {"response": []}
                    auth(r)
            return loop

        d = per_call_ns(apply(credplug_auth), len(pre))
        e = per_call_ns(apply(authlib_auth), len(pre))
        rows += [("11b", "credplug.auth.RequestsAuth on a prepared request", f"{d:.0f} ns"),
                 ("11b", "authlib OAuth2Auth on a prepared request", f"{e:.0f} ns")]

        def threads_rps(auth_for_thread) -> float:
            errors = []

            def work() -> None:
                s = requests.Session()
                auth, extra = auth_for_thread()
                try:
                    for _ in range(args.requests):
                        r = s.patch(api, data=b"[]", headers={"Content-Type": "application/json", **extra},
                                    auth=auth, verify=ca)
                        if r.status_code != 200:
                            errors.append(r.status_code)
                except Exception as ex:  # noqa: BLE001 (reported)
                    errors.append(repr(ex))

            best = []
            for _ in range(max(1, args.runs // 2)):
                threads = [threading.Thread(target=work) for _ in range(16)]
                start = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                best.append(16 * args.requests / (time.perf_counter() - start))
            assert not errors, errors[:3]
            return statistics.median(best)

        fixed = dict(first.items())
        f = threads_rps(lambda: (credplug_auth, {}))
        g = threads_rps(lambda: (None, fixed))
        rows += [("11c", "16 threads of requests, with RequestsAuth", f"{f:,.0f} requests/s"),
                 ("11c", "16 threads of requests, a fixed header (no adapter)", f"{g:,.0f} requests/s")]
        assert count("ainua.token") == tokens_before, "the workload asked for a token"
finally:
    emulator.stop()

print(f"benchmark 11: credplug from Python (median of {args.runs} runs; {args.calls:,} calls for credplug, "
      f"{args.calls // 10:,} for the others)")
print("| | what | per call |\n|---|---|---|")
for row in rows:
    print(f"| {row[0]} | {row[1]} | {row[2]} |")
