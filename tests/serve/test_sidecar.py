"""`credplug serve` with Python requests as the client, over its Unix
socket and over TCP with a bearer token."""
from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import subprocess
import threading

import requests

from conftest import BIN, PLUGINS, Emulator, Sidecar, register, start, wait_for


def test_plugins_schema_validate(sidecar: Sidecar) -> None:
    assert sidecar.get("/healthz").json() == {"ok": True, "credentials": 0}
    plugins = sidecar.get("/v1/plugins").json()
    assert "ainua" in {p["id"] for p in plugins["plugins"]}
    schema = sidecar.get("/v1/plugins/ainua/schema").json()
    assert schema["properties"]["client_secret"]["writeOnly"] is True
    form = sidecar.get("/v1/plugins/avni/schema?form=1").json()
    assert form["uiSchema"]["client_secret"]["ui:widget"] == "password"
    assert list(form["schema"]["dependencies"]) == ["token_flow"]
    valid = sidecar.post("/v1/plugins/ainua/validate", data='{"ainua_url": "x.example", "client_id": "c"}').json()
    assert valid["valid"] is False and [e["pointer"] for e in valid["errors"]] == ["/client_secret"]
    unknown = sidecar.get("/v1/plugins/nope/schema")
    assert unknown.status_code == 400 and unknown.json()["error"]["kind"] == "invalid_input"
    assert "nope" in unknown.json()["error"]["message"]


def test_one_token_for_every_client(sidecar: Sidecar, emulator: Emulator) -> None:
    if sidecar.socket:
        assert stat.S_IMODE(os.stat(sidecar.socket).st_mode) == 0o600
    tokens = emulator.count("ainua.token")
    first = register(sidecar, emulator)
    assert first.status_code == 201 and first.json() == {"ok": True, "name": "tenant-1", "plugin": "ainua",
                                                          "label": "tenant-1"}
    assert emulator.secret not in first.text
    assert register(sidecar, emulator).status_code == 200  # the same again: replaced, same token cache
    seen, errors = set(), []

    def client() -> None:
        session = sidecar.session  # one keep-alive connection per thread is what requests does per session
        try:
            for _ in range(25):
                r = session.get(sidecar.url("/v1/credentials/tenant-1/headers"))
                assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
                seen.add(r.json()["headers"]["Authorization"])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(seen) == 1 and seen.pop().startswith("Bearer ")
    assert emulator.count("ainua.token") == tokens + 1
    listed = sidecar.get("/v1/credentials").json()["credentials"]
    assert listed == [{"name": "tenant-1", "plugin": "ainua", "label": "tenant-1"}]
    status = sidecar.get("/v1/credentials/tenant-1/status").json()
    assert status["state"] == "ok" and status["has_token"] is True
    metrics = sidecar.get("/metrics")
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert 'credplug_token_requests_total{plugin="ainua",outcome="ok"} 1' in metrics.text


def test_invalidate_by_generation(sidecar: Sidecar, emulator: Emulator) -> None:
    register(sidecar, emulator)
    h1 = sidecar.get("/v1/credentials/tenant-1/headers").json()
    assert h1["generation"] == 1 and h1["expires_at"] > 0
    tokens = emulator.count("ainua.token")
    for _ in range(3):  # three clients saw the same 401: one new token
        assert sidecar.post("/v1/credentials/tenant-1/invalidate", json={"generation": 1}).json() == {"ok": True}
    h2 = sidecar.get("/v1/credentials/tenant-1/headers").json()
    assert h2["generation"] == 2 and h2["headers"] != h1["headers"]
    sidecar.post("/v1/credentials/tenant-1/invalidate", json={"generation": 1})  # stale: the new token stays
    assert sidecar.get("/v1/credentials/tenant-1/headers").json()["generation"] == 2
    assert emulator.count("ainua.token") == tokens + 1
    bad = sidecar.post("/v1/credentials/tenant-1/invalidate", json={"generation": "one"})
    assert bad.status_code == 400 and "generation" in bad.json()["error"]["message"]
    assert sidecar.post("/v1/credentials/tenant-1/invalidate").json() == {"ok": True}  # no body: whatever is cached
    assert sidecar.get("/v1/credentials/tenant-1/headers").json()["generation"] == 3


def test_bad_input_is_a_clear_4xx(sidecar: Sidecar, emulator: Emulator) -> None:
    def error(r: requests.Response, status: int, kind: str) -> str:
        assert r.status_code == status, r.text
        body = r.json()
        assert body["ok"] is False and body["error"]["kind"] == kind
        return body["error"]["message"]

    assert "no credential named 'ghost'" in error(sidecar.get("/v1/credentials/ghost/headers"), 404, "not_found")
    assert "not JSON" in error(sidecar.put("/v1/credentials/x", data="{nope"), 400, "invalid_input")
    assert "line 1" in error(sidecar.put("/v1/credentials/x", data="[" * 100 + "]" * 100), 400, "invalid_input")
    error(sidecar.put("/v1/credentials/x", data="x" * 300_000), 413, "invalid_input")
    error(sidecar.put("/v1/credentials/x", data="[]"), 400, "invalid_input")
    assert "\"plugin\"" in error(sidecar.put("/v1/credentials/x", data="{}"), 400, "invalid_input")
    assert "name" in error(sidecar.put("/v1/credentials/" + "n" * 129, data="{}"), 400, "invalid_input")
    error(sidecar.get("/v1/nothing-here"), 404, "not_found")
    wrong = sidecar.put("/v1/credentials/x", data=json.dumps(
        {"plugin": "ainua", "credential": {"ainua_url": emulator.origin, "client_id": 7, "client_secret": "s3cr3t-X"}}))
    message = error(wrong, 400, "invalid_input")
    assert "client_id" in message and "s3cr3t-X" not in message
    register(sidecar, emulator, "refused", client_secret="not-the-secret-9")
    refused = sidecar.get("/v1/credentials/refused/headers")
    assert "not-the-secret-9" not in error(refused, 403, "rejected")
    emulator.switch(fail_status=503)
    register(sidecar, emulator, "outage", scope="other")
    error(sidecar.get("/v1/credentials/outage/headers"), 502, "provider")
    assert sidecar.delete("/v1/credentials/outage").status_code == 204
    error(sidecar.delete("/v1/credentials/outage"), 404, "not_found")


def test_tcp_needs_the_bearer_token(work: str, emulator: Emulator) -> None:
    s = start(work, emulator, tcp=True)
    try:
        token_file = s.process.args[s.process.args.index("--token-file") + 1]
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600 and len(s.token) == 64
        plain = requests.Session()
        plain.trust_env = False
        assert plain.get(s.url("/healthz")).status_code == 200  # health checks carry no token
        missing = plain.get(s.url("/v1/plugins"))
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json()["error"]["kind"] == "unauthorized"
        wrong = plain.get(s.url("/v1/plugins"), headers={"Authorization": "Bearer " + "0" * 64})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "wrong bearer token"
        assert plain.get(s.url("/metrics")).status_code == 401
        assert s.get("/v1/plugins").status_code == 200
    finally:
        assert s.stop() == 0
    # A token file others may read is refused before anything listens.
    loose = f"{work}/loose-token"
    with open(loose, "w") as f:
        f.write("x" * 32)
    os.chmod(loose, 0o644)
    r = subprocess.run([os.path.join(BIN, "credplug"), "--plugin-dir", PLUGINS, "serve", "--listen", "127.0.0.1:0",
                        "--token-file", loose], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and "chmod 600" in r.stderr
    # --listen without a token file is refused.
    r = subprocess.run([os.path.join(BIN, "credplug"), "--plugin-dir", PLUGINS, "serve", "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and "--token-file" in r.stderr


def test_a_live_socket_is_not_taken_over(work: str, emulator: Emulator) -> None:
    s = start(work, emulator)
    try:
        r = subprocess.run([os.path.join(BIN, "credplug"), "--plugin-dir", PLUGINS, "serve", "--socket", s.socket],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 3 and "already listens" in r.stderr
        assert s.get("/healthz").status_code == 200
    finally:
        assert s.stop() == 0
    assert not os.path.exists(s.socket)  # removed when it stopped


def test_sigterm_finishes_requests_in_flight(work: str, emulator: Emulator) -> None:
    s = start(work, emulator)
    register(s, emulator, "slow")
    emulator.switch(delay_ms=1500)  # the token request takes 1.5 s
    answer = {}

    def call() -> None:
        answer["r"] = s.get("/v1/credentials/slow/headers")

    t = threading.Thread(target=call)
    t.start()
    wait_for(lambda: emulator.count("ainua.token") >= 1, "the token request to start")
    s.process.send_signal(15)
    t.join()
    assert answer["r"].status_code == 200 and answer["r"].json()["headers"]["Authorization"]
    assert s.process.wait(timeout=60) == 0
    assert "finishing the requests in flight" in s.stderr()


def test_a_persons_account_through_the_sidecar(sidecar: Sidecar, emulator: Emulator) -> None:
    begun = sidecar.post("/v1/credentials/alice/authorization", data=json.dumps(
        {"plugin": "oauth2", "credential": emulator.account(), "redirect_uri": "http://127.0.0.1:5555/cb",
         "label": "alice"})).json()
    assert begun["ok"] and begun["url"].startswith(emulator.origin + "/oauth/authorize?")
    browser = requests.get(begun["url"], allow_redirects=False, verify=emulator.ca_file)
    done = sidecar.post("/v1/credentials/alice/authorization/complete",
                        json={"pending": begun["pending"], "redirect_url": browser.headers["Location"]})
    assert done.status_code == 201, done.text
    assert done.json()["state"]["refresh_token"]
    assert sidecar.get("/v1/credentials/alice/headers").json()["headers"]["Authorization"].startswith("Bearer ")
    rotated = sidecar.get("/v1/credentials/alice/state").json()["state"]
    assert rotated["refresh_token"] != done.json()["state"]["refresh_token"]  # rotated on use: keep the newest
    assert sidecar.post("/v1/credentials/alice/revoke").json() == {"ok": True}
    assert sidecar.get("/v1/credentials/alice/state").json()["state"] == {}
    sidecar.post("/v1/credentials/alice/invalidate")
    gone = sidecar.get("/v1/credentials/alice/headers")
    assert gone.status_code == 409 and gone.json()["error"]["kind"] == "reauthorize"
    again = sidecar.post("/v1/credentials/bob/authorization/complete", json={"pending": "x", "redirect_url": "y"})
    assert again.status_code == 404


def test_signing_through_the_sidecar(sidecar: Sidecar) -> None:
    key = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "region": "us-east-1", "service": "service"}
    assert sidecar.put("/v1/credentials/aws", data=json.dumps({"plugin": "aws", "credential": key})).status_code == 201
    signed = sidecar.post("/v1/credentials/aws/sign", data=json.dumps(
        {"method": "GET", "url": "https://example.amazonaws.com/?Param2=value2&Param1=value1",
         "headers": {"Host": "example.amazonaws.com"}, "time_ms": 1440938160000})).json()
    assert signed["ok"] and "headers" in signed, signed
    headers = {h["name"]: h["value"] for h in signed["headers"]}
    assert headers["Authorization"].endswith(
        "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")  # AWS's vector
    bad = sidecar.post("/v1/credentials/aws/sign", data=json.dumps({"url": "http://plain.example/"}))
    assert bad.status_code == 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_sidecars_share_the_fleet_cache(work: str, emulator: Emulator) -> None:
    """Sidecars on two machines of a fleet (--shared-cache): one token request for both."""
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--logfile", ""], stdout=subprocess.DEVNULL)
    key_file = f"{work}/fleet.key"
    with open(key_file, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(key_file, 0o600)
    fleet = ["--shared-cache", f"redis://127.0.0.1:{port}/0", "--shared-cache-key-file", key_file]
    try:
        def answers() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_for(answers, "redis-server")
        first, second = start(work, emulator, global_args=fleet), start(work, emulator, global_args=fleet)
        try:
            tokens = emulator.count("ainua.token")
            emulator.switch(delay_ms=300)  # both ask while the one request is in flight
            register(first, emulator, "shared")
            register(second, emulator, "shared")
            seen = {}
            threads = [threading.Thread(target=lambda s=s, n=n: seen.__setitem__(
                n, s.get("/v1/credentials/shared/headers").json()["headers"]["Authorization"]))
                for n, s in (("first", first), ("second", second))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert seen["first"] == seen["second"]
            assert emulator.count("ainua.token") == tokens + 1
            assert "credplug_shared_cache" in first.get("/metrics").text
        finally:
            assert first.stop() == 0 and second.stop() == 0
    finally:
        redis.kill()
        redis.wait()
