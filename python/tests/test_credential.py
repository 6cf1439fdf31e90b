"""The package against the emulator over TLS: tokens, errors by kind, the
object lifecycle, threads, fork, asyncio and callbacks."""
from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Mapping

import pytest
import requests

import credplug

from conftest import Emulator


def test_headers_are_cached_and_masked(host: credplug.Host, emulator: Emulator) -> None:
    before = emulator.count("ainua.token")
    with host.open("ainua", emulator.credential(), label="tenant-1") as cred:
        first = cred.headers()
        for _ in range(100):
            assert cred.headers()["authorization"] == first["Authorization"]  # no case in names
        assert emulator.count("ainua.token") == before + 1
        assert isinstance(first, Mapping) and len(first) == 1 and list(first) == ["Authorization"]
        assert first["Authorization"].startswith("Bearer ") and first.is_secret("Authorization")
        assert dict(first.items()) == {"Authorization": first["Authorization"]}
        assert first.get("X-Nothing") is None and "authorization" in first and 5 not in first
        assert repr(first) == "<credplug.Headers {'Authorization': '***'}>"
        assert first["Authorization"][7:] not in repr(first)
        assert first.generation == 1 and first.expires_at > 0
        status = cred.status()
        assert status["state"] == "ok" and status["label"] == "tenant-1" and status["has_token"]
        with pytest.raises(KeyError):
            first["X-Nothing"]


def test_invalidate_takes_one_new_token(host: credplug.Host, emulator: Emulator) -> None:
    with host.open("ainua", emulator.credential()) as cred:
        old = cred.headers()
        cred.invalidate(old)
        cred.invalidate(old)  # a second caller that saw the same 401: no second request
        new = cred.headers()
        assert new.generation == 2 and new["Authorization"] != old["Authorization"]


def test_errors_by_kind(host: credplug.Host, emulator: Emulator) -> None:
    with pytest.raises(credplug.InvalidInputError) as invalid:
        host.open("oauth2", {"token_url": "http://x", "client_id": 5, "client_secret": "hunter2-secret"})
    e = invalid.value
    assert e.status == 3 and e.kind == "invalid_input" and isinstance(e, ValueError)
    assert {(f.pointer, f.rule) for f in e.fields} == {("/token_url", "minLength"), ("/client_id", "type")}
    assert all(f.title and f.message for f in e.fields)
    assert "hunter2-secret" not in str(e)

    with pytest.raises(credplug.InvalidInputError) as unknown:
        host.open("no-such-plugin", {})
    assert unknown.value.fields == () and "no-such-plugin" in str(unknown.value)

    form = host.schema("avni", form=True)
    assert form["schema"]["$schema"].endswith("draft-07/schema#")
    assert form["uiSchema"]["password"]["ui:widget"] == "password"
    assert host.schema("avni")["$schema"].endswith("draft-04/schema#")
    assert host.validate("oauth2", emulator.account()) == []
    assert {f.pointer for f in host.validate("oauth2", "{}")} == {"/token_url", "/client_id"}

    with host.open("ainua", emulator.credential(client_secret="wrong-secret-1")) as cred:
        with pytest.raises(credplug.RejectedError) as rejected:
            cred.headers()
        assert rejected.value.kind == "rejected" and "wrong-secret-1" not in str(rejected.value)

    emulator.switch(fail_status=503)
    with host.open("ainua", emulator.credential(), label="outage") as cred:
        with pytest.raises(credplug.ProviderError):
            cred.test()

    # A port nothing listens on: a network error, which is a ConnectionError.
    closed = emulator.origin.rsplit(":", 1)[0] + ":1"
    with host.open("ainua", emulator.credential(ainua_url=closed)) as cred:
        with pytest.raises(ConnectionError) as network:
            cred.headers()
        assert isinstance(network.value, credplug.NetworkError)


def test_closed_objects_refuse_calls(emulator: Emulator) -> None:
    host = credplug.Host(plugin_dirs=[os.environ["CREDPLUG_TEST_PLUGIN_DIR"]], use_environment=False,
                         use_default_dir=False, ca_file=emulator.ca_file)
    cred = host.open("ainua", emulator.credential())
    host.close()
    assert host.closed
    with pytest.raises(ValueError, match="closed"):
        host.plugins()
    assert cred.headers()["Authorization"]  # a credential outlives its host
    cred.close()
    cred.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        cred.headers()


def test_threads_share_one_token_request(host: credplug.Host, emulator: Emulator) -> None:
    emulator.switch(delay_ms=300)  # every thread arrives while the request is in flight
    before = emulator.count("ainua.token")
    seen: set[str] = set()
    errors: list[BaseException] = []
    with host.open("ainua", emulator.credential()) as cred:
        def work() -> None:
            try:
                for _ in range(200):
                    seen.add(cred.headers()["Authorization"])
            except BaseException as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(seen) == 1
    assert emulator.count("ainua.token") == before + 1


def test_a_forked_child_gets_its_own_tokens(host: credplug.Host, emulator: Emulator) -> None:
    with host.open("ainua", emulator.credential()) as cred:
        parent = cred.headers()["Authorization"]
        pid = os.fork()
        if pid == 0:  # the child of a pre-fork server: the same objects work
            code = 0
            try:
                code = 0 if cred.headers()["Authorization"] and cred.test()["ok"] else 3
            except BaseException:  # noqa: BLE001
                code = 4
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert cred.headers()["Authorization"] == parent


def test_asyncio_never_blocks_the_loop(host: credplug.Host, emulator: Emulator) -> None:
    emulator.switch(delay_ms=400)

    async def main() -> tuple[int, str]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        cred = await host.open_async("ainua", emulator.credential())
        with cred:
            headers = await cred.headers_async()
            results = await asyncio.gather(*(cred.headers_async() for _ in range(8)))
            assert {h["Authorization"] for h in results} == {headers["Authorization"]}
            result = await cred.test_async()
            assert result["ok"]
        done.set()
        await task
        return ticks, headers["Authorization"]

    ticks, value = asyncio.run(main())
    # The token request and the test each waited 400 ms at the server: the
    # loop went on ticking meanwhile (a blocked loop would tick about twice).
    assert ticks >= 20 and value.startswith("Bearer ")


def test_callbacks_from_library_threads(emulator: Emulator) -> None:
    events: list[dict] = []
    lines: list[str] = []
    with credplug.Host(plugin_dirs=[os.environ["CREDPLUG_TEST_PLUGIN_DIR"]], use_environment=False,
                       use_default_dir=False, ca_file=emulator.ca_file, on_event=events.append,
                       log=lambda level, line: lines.append(line), log_level=3) as host:
        emulator.switch(fail_status=503)
        with host.open("ainua", emulator.credential(), label="callbacks") as cred:
            with pytest.raises(credplug.ProviderError):
                cred.headers()
    assert [(e["event"], e["label"], e["kind"]) for e in events] == [("failing", "callbacks", "provider")]
    assert lines and not any(emulator.secret in line for line in lines)


def connect(host: credplug.Host, emulator: Emulator) -> str:
    """A person connects their account: the authorization code grant, with
    requests as the browser (the emulator approves at once)."""
    begun = host.begin_authorization("oauth2", emulator.account(), "http://127.0.0.1:5555/callback")
    assert "***" in repr(begun) and begun.pending not in repr(begun)
    answer = requests.get(begun.url, allow_redirects=False, verify=emulator.ca_file)
    assert answer.status_code == 302
    return host.complete_authorization(begun.pending, answer.headers["Location"])


def test_a_persons_account_with_rotating_state(host: credplug.Host, emulator: Emulator) -> None:
    account = emulator.account()
    state = connect(host, emulator)
    assert json.loads(state)["refresh_token"]
    saved: list[str] = []
    with host.open("oauth2", account, state=state, on_state=saved.append) as cred:
        assert cred.headers()["Authorization"]
        assert len(saved) == 1 and saved[0] != state and cred.state() == saved[0]  # rotated, written back
        cred.revoke()
        assert json.loads(saved[-1]) == {}
        cred.invalidate()
        with pytest.raises(credplug.ReauthorizeError):
            cred.headers()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the sink's OSError, reported
def test_a_failing_state_sink_fails_the_token_request(host: credplug.Host, emulator: Emulator) -> None:
    account = emulator.account()
    state = connect(host, emulator)

    def refuse(_: str) -> None:
        raise OSError("the database is down")

    with host.open("oauth2", account, state=state, on_state=refuse) as cred:
        with pytest.raises(credplug.StateNotSavedError):
            cred.headers()


def test_signing_a_request(emulator: Emulator) -> None:
    with credplug.Host(plugin_dirs=[os.environ["CREDPLUG_TEST_PLUGIN_DIR"]], use_environment=False,
                       use_default_dir=False) as host:
        key = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
               "region": "us-east-1", "service": "service"}
        with host.open("aws", key) as cred:
            signed = cred.sign("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                               headers={"Host": "example.amazonaws.com"}, time_ms=1440938160000)
            # AWS's get-vanilla-query-order-key-case vector (SigV4 test suite).
            assert signed.headers["Authorization"] == (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
            assert "b97d918c" not in repr(signed) and "***" in repr(signed)
            with pytest.raises(credplug.InvalidInputError):
                cred.sign("GET", "http://plain.example/")


def test_close_while_other_threads_call(host: credplug.Host, emulator: Emulator) -> None:
    cred = host.open("ainua", emulator.credential())
    cred.headers()
    started = threading.Barrier(9)
    outcomes: list[str] = []

    def work() -> None:
        started.wait()
        for _ in range(20_000):
            try:
                cred.headers()
            except ValueError:  # closed: every later call says so
                outcomes.append("closed")
                return
        outcomes.append("finished")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait()
    cred.close()  # while they call: each call holds its own reference
    for t in threads:
        t.join()
    assert len(outcomes) == 8 and set(outcomes) <= {"closed", "finished"}
