"""Fixtures for the sidecar's tests: the emulator (its own CA), and
`credplug serve` processes on a Unix socket or TCP. run.sh sets
CREDPLUG_TEST_BIN and CREDPLUG_TEST_PLUGIN_DIR."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Iterator, List, Optional

import pytest
import requests
import requests_unixsocket

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from emulator_process import start_emulator  # noqa: E402

BIN = os.environ.get("CREDPLUG_TEST_BIN", "")
PLUGINS = os.environ.get("CREDPLUG_TEST_PLUGIN_DIR", "")


@dataclass
class Emulator:
    origin: str
    ca_file: str
    secret: str

    def switch(self, provider: str = "ainua", **switches: object) -> None:
        requests.post(self.origin + "/_emulator/switches", data={"provider": provider, **switches},
                      verify=self.ca_file).raise_for_status()

    def count(self, endpoint: str) -> int:
        return requests.get(self.origin + "/_emulator/count", params={"endpoint": endpoint},
                            verify=self.ca_file).json()["count"]

    def credential(self, **extra: object) -> dict:
        return {"ainua_url": self.origin, "client_id": "sidecar-client", "client_secret": self.secret, **extra}

    def account(self) -> dict:
        return {"token_url": self.origin + "/oauth/token", "authorization_url": self.origin + "/oauth/authorize",
                "revocation_url": self.origin + "/oauth/revoke", "client_id": "sidecar-client",
                "client_secret": self.secret}


@dataclass
class Sidecar:
    """A running `credplug serve`, and a requests session that reaches it."""
    process: subprocess.Popen
    base: str  # what URLs start with
    session: requests.Session
    log: str  # its stderr, as a file
    socket: Optional[str] = None
    token: Optional[str] = None
    extra: List[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.session.get(self.url(path), **kw)

    def post(self, path: str, **kw: object) -> requests.Response:
        return self.session.post(self.url(path), **kw)

    def put(self, path: str, **kw: object) -> requests.Response:
        return self.session.put(self.url(path), **kw)

    def delete(self, path: str, **kw: object) -> requests.Response:
        return self.session.delete(self.url(path), **kw)

    def stop(self) -> int:
        # Idle keep-alive connections closed first: the server waits for
        # each open one to go quiet for its keep-alive time before it ends.
        self.session.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def stderr(self) -> str:
        return open(self.log).read()


def wait_for(predicate, what: str, timeout_s: float = 30.0) -> None:
    """Waits on a state (a file appearing), never for a fixed time."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


@pytest.fixture(scope="session")
def work() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="credplug-serve-") as d:
        yield d


@pytest.fixture(scope="session")
def emulator(work: str) -> Iterator[Emulator]:
    secret = "sidecar-" + secrets.token_hex(8)
    process = start_emulator(BIN, work, ["ainua:sidecar-client", "oauth2:sidecar-client"], secret)
    try:
        yield Emulator(process.origin, process.ca_file, secret)
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def _reset(emulator: Emulator) -> None:
    emulator.switch(reset=1)
    emulator.switch("oauth2", reset=1)


def start(work: str, emulator: Emulator, *args: str, tcp: bool = False, token_file: Optional[str] = None,
          verbose: bool = False, global_args: Optional[List[str]] = None) -> Sidecar:
    n = secrets.token_hex(4)
    log = f"{work}/serve-{n}.log"
    command = [os.path.join(BIN, "credplug"), "--plugin-dir", PLUGINS, "--ca-file", emulator.ca_file]
    command += ["-vv"] if verbose else []
    command += global_args or []
    command += ["serve", *args]
    if tcp:
        token_file = token_file or f"{work}/token-{n}"
        command += ["--listen", "127.0.0.1:0", "--port-file", f"{work}/port-{n}", "--token-file", token_file]
    else:
        command += ["--socket", f"{work}/s-{n}.sock"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDPLUG_")}
    process = subprocess.Popen(command, stderr=open(log, "w"), env=env)
    if tcp:
        wait_for(lambda: os.path.exists(f"{work}/port-{n}") or process.poll() is not None, "the port file")
        assert process.poll() is None, open(log).read()
        port = open(f"{work}/port-{n}").read().strip()
        token = open(token_file).read().strip()
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + token
        session.trust_env = False
        return Sidecar(process, f"http://127.0.0.1:{port}", session, log, token=token)
    path = f"{work}/s-{n}.sock"
    wait_for(lambda: os.path.exists(path) or process.poll() is not None, "the socket")
    assert process.poll() is None, open(log).read()
    return Sidecar(process, "http+unix://" + urllib.parse.quote(path, safe=""), requests_unixsocket.Session(), log,
                   socket=path)


@pytest.fixture(params=["unix", "tcp"])
def sidecar(request: pytest.FixtureRequest, work: str, emulator: Emulator) -> Iterator[Sidecar]:
    s = start(work, emulator, tcp=request.param == "tcp", verbose=True)
    yield s
    assert s.stop() == 0
    for secret in (emulator.secret,):
        assert secret not in s.stderr(), "a secret in the sidecar's log"


def register(s: Sidecar, emulator: Emulator, name: str = "tenant-1", **extra: object) -> requests.Response:
    return s.put("/v1/credentials/" + name,
                 data=json.dumps({"plugin": "ainua", "credential": emulator.credential(**extra), "label": name}))
