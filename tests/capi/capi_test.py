#!/usr/bin/env python3
"""The C embedding API driven from Python through ctypes, as a Python platform
would embed credplug. Run by run.sh (which starts the emulator and sets
CREDPLUG_TEST_HOST_LIB, CREDPLUG_TEST_PLUGIN_DIR, CREDPLUG_CA_FILE,
CREDPLUG_TEST_AINUA_HOST and CREDPLUG_TEST_AINUA_SECRET)."""
import ctypes as C
import json
import os
import sys
import threading

OK, MISUSE, INVALID_INPUT, REJECTED = 0, 2, 3, 4


class HostOptions(C.Structure):
    _fields_ = [
        ("struct_size", C.c_uint32), ("plugin_dirs", C.POINTER(C.c_char_p)),
        ("use_environment", C.c_int32), ("use_default_dir", C.c_int32), ("ca_file", C.c_char_p),
        ("connect_timeout_ms", C.c_int64), ("total_timeout_ms", C.c_int64),
        ("log", C.c_void_p), ("log_user", C.c_void_p), ("log_level", C.c_int32),
        ("cache_skew_ms", C.c_int64), ("cache_refresh_fraction", C.c_double),
        ("cache_max_refresh_window_ms", C.c_int64), ("cache_default_lifetime_ms", C.c_int64),
        ("cache_max_attempts", C.c_int32), ("cache_backoff_initial_ms", C.c_int64),
        ("cache_backoff_max_ms", C.c_int64), ("cache_max_wait_ms", C.c_int64),
        ("cache_rejection_hold_ms", C.c_int64), ("cache_refresh_threads", C.c_int32),
    ]


class HostOptionsNow(HostOptions):
    """The struct as host.h has it now: 0.1's fields, then those appended since."""
    _fields_ = [
        ("allow_unsafe_plugin_paths", C.c_int32), ("disable_core_dumps", C.c_int32), ("pin_file", C.c_char_p),
        ("isolation", C.c_int32), ("runner_path", C.c_char_p), ("max_response_bytes", C.c_int64),
        ("shared_cache_url", C.c_char_p), ("shared_cache_key_file", C.c_char_p),
        ("shared_cache_timeout_ms", C.c_int64), ("keep_dumpable_with_runners", C.c_int32),
        ("runners_without_namespaces", C.c_int32), ("log_format", C.c_int32),
    ]


class OpenOptions(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("label", C.c_char_p)]


OFF, LOG_FORMAT_JSON = -1, 2
LOG_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_int32, C.c_char_p)


def load():
    lib = C.CDLL(os.environ["CREDPLUG_TEST_HOST_LIB"])
    P = C.c_void_p
    sig = {
        "credplug_host_options_init": (None, [C.POINTER(HostOptions)]),
        "credplug_host_options_init_sized": (None, [P, C.c_size_t]),
        "credplug_open_with": (C.c_int32, [P, C.c_char_p, C.c_char_p, C.c_size_t, C.POINTER(OpenOptions),
                                           C.POINTER(P), C.POINTER(P)]),
        "credplug_credential_status": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_host_schema": (C.c_int32, [P, C.c_char_p, C.POINTER(P), C.POINTER(P)]),
        "credplug_validate_json": (C.c_int32, [P, C.c_char_p, C.c_char_p, C.c_size_t, C.POINTER(P), C.POINTER(P)]),
        "credplug_credential_ref": (P, [P]),
        "credplug_host_version": (C.c_char_p, []),
        "credplug_status_name": (C.c_char_p, [C.c_int32]),
        "credplug_host_new": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_host_free": (None, [P]),
        "credplug_host_plugins": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_validate": (C.c_int32, [P, C.c_char_p, C.c_char_p, C.c_size_t, C.POINTER(P)]),
        "credplug_open": (C.c_int32, [P, C.c_char_p, C.c_char_p, C.c_size_t, C.POINTER(P), C.POINTER(P)]),
        "credplug_credential_free": (None, [P]),
        "credplug_headers_get": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_headers_count": (C.c_size_t, [P]),
        "credplug_headers_name": (C.c_char_p, [P, C.c_size_t]),
        "credplug_headers_value": (C.c_char_p, [P, C.c_size_t]),
        "credplug_headers_secret": (C.c_int32, [P, C.c_size_t]),
        "credplug_headers_generation": (C.c_uint64, [P]),
        "credplug_headers_release": (None, [P]),
        "credplug_invalidate": (C.c_int32, [P, P, C.POINTER(P)]),
        "credplug_test": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_cache_status": (C.c_int32, [P, C.POINTER(P), C.POINTER(P)]),
        "credplug_free": (None, [P]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


lib = load()


def take(p):
    """A string the API returned, freed (and wiped) after copying."""
    if not p.value:
        return None
    text = C.string_at(p.value).decode()
    lib.credplug_free(p)
    return text


class CredplugError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def call(fn, *args):
    err = C.c_void_p()
    rc = fn(*args, C.byref(err))
    message = take(err)
    if rc != OK:
        raise CredplugError(rc, message)


def main():
    logs = []
    log_fn = LOG_FN(lambda user, level, message: logs.append(message.decode()))
    # The exported credplug_host_options_init cannot know this struct's size:
    # it fills nothing, and a Host refuses the struct, saying what to call.
    unsized = HostOptions()
    unsized.cache_max_attempts = 99
    lib.credplug_host_options_init(C.byref(unsized))
    assert unsized.struct_size == 0 and unsized.cache_max_attempts == 99
    host = C.c_void_p()
    try:
        call(lib.credplug_host_new, C.byref(unsized), C.byref(host))
        raise AssertionError("a struct filled without its size was accepted")
    except CredplugError as e:
        assert e.code == MISUSE and "credplug_host_options_init_sized(&o, sizeof o)" in e.message, e.message

    options = HostOptions()
    lib.credplug_host_options_init_sized(C.byref(options), C.sizeof(options))
    assert options.struct_size == C.sizeof(options) and options.cache_max_attempts == 3
    dirs = (C.c_char_p * 2)(os.environ["CREDPLUG_TEST_PLUGIN_DIR"].encode(), None)
    options.plugin_dirs = dirs
    options.use_environment = 0
    options.use_default_dir = 0
    options.ca_file = os.environ["CREDPLUG_CA_FILE"].encode()
    options.log = C.cast(log_fn, C.c_void_p)
    options.log_level = 3
    assert b"plugin ABI 1." in lib.credplug_host_version()
    assert [lib.credplug_status_name(s) for s in range(8)] == [
        b"ok", b"internal", b"misuse", b"invalid_input", b"rejected", b"network", b"provider", b"plugin"]

    host = C.c_void_p()
    call(lib.credplug_host_new, C.byref(options), C.byref(host))
    out = C.c_void_p()
    call(lib.credplug_host_plugins, host, C.byref(out))
    ids = [p["id"] for p in json.loads(take(out))["plugins"]]
    assert "ainua" in ids and "nexla" in ids, ids

    try:
        call(lib.credplug_validate, host, b"ainua", b"{}", 2)
        raise AssertionError("an empty credential validated")
    except CredplugError as e:
        assert e.code == INVALID_INPUT and "client_secret" in e.message, e.message

    # What a form needs: the schema, and each field's problem beside it.
    call(lib.credplug_host_schema, host, b"ainua", C.byref(out))
    schema = json.loads(take(out))
    assert schema["properties"]["client_secret"]["writeOnly"] is True, schema
    call(lib.credplug_validate_json, host, b"ainua", b"{}", 2, C.byref(out))
    verdict = json.loads(take(out))
    assert verdict["valid"] is False, verdict
    by_field = {e["field"]: e for e in verdict["errors"]}
    assert set(by_field) == {"ainua_url", "client_id", "client_secret"}, verdict
    assert by_field["client_id"] == {"pointer": "/client_id", "field": "client_id", "title": "Client ID",
                                     "rule": "required", "message": by_field["client_id"]["message"]}, verdict
    assert "Client ID" in by_field["client_id"]["message"]

    # Validation from many threads at once (ctypes drops the GIL in C): one
    # compiled schema shared by all used to crash within a few hundred calls.
    good = json.dumps({"ainua_url": "tenant.ainua.fi", "client_id": "c", "client_secret": "s",
                       "test_request_path": "/api/integrations/v1/items"}).encode()
    bad_url = json.dumps({"ainua_url": "https://tenant.ainua.fi/?q=1", "client_id": "c",
                          "client_secret": "s"}).encode()
    wrong = []
    def validator(index):
        try:
            for k in range(300):
                ok = (k + index) % 2 == 0
                doc = good if ok else bad_url
                err = C.c_void_p()
                rc = lib.credplug_validate(host, b"ainua", doc, len(doc), C.byref(err))
                message = take(err) or ""
                if (rc == 0) != ok or (not ok and "ainua_url" not in message):
                    wrong.append((rc, message))
        except Exception as e:  # a thread's exception must fail the test, not just print
            wrong.append(("exception", repr(e)))
    threads = [threading.Thread(target=validator, args=(i,)) for i in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not wrong, wrong[:3]

    secret = os.environ["CREDPLUG_TEST_AINUA_SECRET"]
    text = json.dumps({"ainua_url": os.environ["CREDPLUG_TEST_AINUA_HOST"], "client_id": "connector-1",
                       "client_secret": secret}).encode()
    cred = C.c_void_p()
    call(lib.credplug_open, host, b"ainua", text, len(text), C.byref(cred))

    # Many Python threads, one token.
    seen = []
    def worker():
        for _ in range(50):
            h = C.c_void_p()
            call(lib.credplug_headers_get, cred, C.byref(h))
            seen.append((lib.credplug_headers_generation(h), lib.credplug_headers_value(h, 0)))
            lib.credplug_headers_release(h)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert len(seen) == 400
    assert {g for g, _ in seen} == {1}, {g for g, _ in seen}
    assert len({v for _, v in seen}) == 1 and seen[0][1].startswith(b"Bearer ")

    h = C.c_void_p()
    call(lib.credplug_headers_get, cred, C.byref(h))
    assert lib.credplug_headers_name(h, 0) == b"Authorization" and lib.credplug_headers_secret(h, 0) == 1
    call(lib.credplug_invalidate, cred, h)
    lib.credplug_headers_release(h)
    h2 = C.c_void_p()
    call(lib.credplug_headers_get, cred, C.byref(h2))
    assert lib.credplug_headers_generation(h2) == 2
    lib.credplug_headers_release(h2)

    call(lib.credplug_cache_status, cred, C.byref(out))
    status = json.loads(take(out))
    assert status["has_token"] and status["generation"] == 2 and status["token_requests"] == 2, status
    call(lib.credplug_test, cred, C.byref(out))
    result = json.loads(take(out))
    assert result["ok"] and result["plugin"] == "ainua", result

    wrong = json.dumps({"ainua_url": os.environ["CREDPLUG_TEST_AINUA_HOST"], "client_id": "connector-1",
                        "client_secret": "CANARY-python-wrong-secret"}).encode()
    bad = C.c_void_p()
    call(lib.credplug_open, host, b"ainua", wrong, len(wrong), C.byref(bad))
    try:
        h = C.c_void_p()
        call(lib.credplug_headers_get, bad, C.byref(h))
        raise AssertionError("a wrong secret produced headers")
    except CredplugError as e:
        assert e.code == REJECTED and "CANARY-python-wrong-secret" not in e.message, e.message

    # References: threads each hold one while this thread closes its own (a
    # tenant's credential rotated while its requests are in flight).
    holders = [lib.credplug_credential_ref(cred) for _ in range(4)]
    lib.credplug_credential_free(cred)
    failed = []
    def holder(ref):
        try:
            for _ in range(50):
                h = C.c_void_p()
                call(lib.credplug_headers_get, ref, C.byref(h))
                lib.credplug_headers_release(h)
        except Exception as e:
            failed.append(repr(e))
        finally:
            lib.credplug_credential_free(ref)
    threads = [threading.Thread(target=holder, args=(r,)) for r in holders]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not failed, failed[:2]

    lib.credplug_credential_free(bad)
    lib.credplug_host_free(host)
    operators_see_labels_in_json_lines()
    everything = "\n".join(logs)
    assert secret not in everything and "CANARY-python-wrong-secret" not in everything
    assert any("POST" in line for line in logs), "debug logging reached the Python callback"
    print(f"capi_test.py: OK ({len(logs)} redacted log lines through the callback)")


def operators_see_labels_in_json_lines():
    """A platform names each tenant's credential; its log lines (JSON, for a
    log shipper) and its status say which tenant is in trouble."""
    lines = []
    log_fn = LOG_FN(lambda user, level, message: lines.append(json.loads(message.decode())))
    options = HostOptionsNow()
    lib.credplug_host_options_init_sized(C.byref(options), C.sizeof(options))
    assert options.struct_size == C.sizeof(options)
    dirs = (C.c_char_p * 2)(os.environ["CREDPLUG_TEST_PLUGIN_DIR"].encode(), None)
    options.plugin_dirs = dirs
    options.use_environment = OFF
    options.use_default_dir = OFF
    options.ca_file = os.environ["CREDPLUG_CA_FILE"].encode()
    options.log = C.cast(log_fn, C.c_void_p)
    options.log_format = LOG_FORMAT_JSON
    host = C.c_void_p()
    call(lib.credplug_host_new, C.byref(options), C.byref(host))
    wrong = json.dumps({"ainua_url": os.environ["CREDPLUG_TEST_AINUA_HOST"], "client_id": "connector-1",
                        "client_secret": "CANARY-python-wrong-secret"}).encode()
    tenant = C.c_void_p()
    open_options = OpenOptions(C.sizeof(OpenOptions), "tenant-ü-42".encode())
    call(lib.credplug_open_with, host, b"ainua", wrong, len(wrong), C.byref(open_options), C.byref(tenant))
    try:
        h = C.c_void_p()
        call(lib.credplug_headers_get, tenant, C.byref(h))
        raise AssertionError("a wrong secret produced headers")
    except CredplugError as e:
        assert e.code == REJECTED, e
    out = C.c_void_p()
    call(lib.credplug_credential_status, tenant, C.byref(out))
    status = json.loads(take(out))
    assert status["state"] == "rejected" and status["label"] == "tenant-ü-42", status
    assert status["last_error_kind"] == "rejected" and status["next_attempt_ms"] > 0, status
    refused = [line for line in lines if line.get("event") == "token_request_failed"]
    assert len(refused) == 1, lines
    assert refused[0]["credential"] == "tenant-ü-42" and refused[0]["plugin"] == "ainua", refused[0]
    assert refused[0]["level"] == "error" and refused[0]["state"] == "rejected", refused[0]
    assert "CANARY-python-wrong-secret" not in json.dumps(lines)
    lib.credplug_credential_free(tenant)
    lib.credplug_host_free(host)


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, CredplugError) as e:
        print(f"capi_test.py: FAILED: {e!r}", file=sys.stderr)
        sys.exit(1)
