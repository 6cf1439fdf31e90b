"""Fixtures: the provider emulator over real TLS (a CA made for the run), and
a Host that trusts it. run.sh (the ctest entry) sets CREDPLUG_TEST_BIN (the
emulator's directory) and CREDPLUG_TEST_PLUGIN_DIR, and PYTHONPATH to the
package under test."""
from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

import credplug

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
from emulator_process import start_emulator  # noqa: E402


@dataclass
class Emulator:
    origin: str  # https://localhost:PORT
    ca_file: str
    secret: str  # the oauth2 client py-client's

    def _request(self, path: str, data: dict | None = None) -> dict:
        context = ssl.create_default_context(cafile=self.ca_file)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with urllib.request.urlopen(self.origin + path, data=body, context=context) as r:
            return json.load(r)

    def switch(self, provider: str = "ainua", **switches: object) -> None:
        self._request("/_emulator/switches", {"provider": provider, **switches})

    def count(self, endpoint: str) -> int:
        return int(self._request("/_emulator/count?endpoint=" + endpoint)["count"])

    @property
    def api(self) -> str:
        """An API call (Ainua's) that takes the token: 200, or 401 without a valid one."""
        return self.origin + "/api/integrations/v1/items"

    def credential(self, **extra: object) -> dict:
        """A client-credentials connector (Ainua's)."""
        return {"ainua_url": self.origin, "client_id": "py-client", "client_secret": self.secret, **extra}

    def account(self, **extra: object) -> dict:
        """A person's account, at the generic OAuth 2.0 plugin's provider."""
        return {"token_url": self.origin + "/oauth/token", "authorization_url": self.origin + "/oauth/authorize",
                "revocation_url": self.origin + "/oauth/revoke", "client_id": "py-client",
                "client_secret": self.secret, "userinfo_url": self.origin + "/oauth/me", **extra}


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    work = tempfile.mkdtemp(prefix="credplug-py-")
    secret = "py-secret-" + secrets.token_hex(8)
    process = start_emulator(os.environ["CREDPLUG_TEST_BIN"], work, ["oauth2:py-client", "ainua:py-client"], secret)
    try:
        yield Emulator(origin=process.origin, ca_file=process.ca_file, secret=secret)
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def _reset(emulator: Emulator) -> None:
    emulator.switch(reset=1)
    emulator.switch("oauth2", reset=1)


@pytest.fixture(params=["process", "in-process"])
def host(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[credplug.Host]:
    with credplug.Host(plugin_dirs=[os.environ["CREDPLUG_TEST_PLUGIN_DIR"]], use_environment=False,
                       use_default_dir=False, ca_file=emulator.ca_file, isolation=request.param) as h:
        yield h
