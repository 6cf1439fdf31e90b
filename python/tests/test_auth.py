"""The auth adapters for requests and httpx against the emulator's API: the
headers attached, a 401 answered by one new token and one retry."""
from __future__ import annotations

import asyncio
from typing import Callable

import httpx
import pytest
import requests

import credplug
from credplug.auth import HttpxAuth, RequestsAuth

from conftest import Emulator


def ainua(host: credplug.Host, emulator: Emulator) -> credplug.Credential:
    return host.open("ainua", emulator.credential())


# Each client makes `PATCH api []` (Ainua's API), or `GET url`.
JSON = {"Content-Type": "application/json"}


def patch_requests(emulator: Emulator, cred: credplug.Credential, url: str = "") -> Callable[[], int]:
    session = requests.Session()
    session.auth = RequestsAuth(cred)
    # verify= on each call: requests lets REQUESTS_CA_BUNDLE override a session's.
    if url:
        return lambda: session.get(url, verify=emulator.ca_file).status_code
    return lambda: session.patch(emulator.api, data=b"[]", headers=JSON, verify=emulator.ca_file).status_code


def patch_httpx(emulator: Emulator, cred: credplug.Credential, url: str = "") -> Callable[[], int]:
    client = httpx.Client(verify=emulator.ca_file, auth=HttpxAuth(cred))
    if url:
        return lambda: client.get(url).status_code
    return lambda: client.patch(emulator.api, content=b"[]", headers=JSON).status_code


def patch_httpx_async(emulator: Emulator, cred: credplug.Credential, url: str = "") -> Callable[[], int]:
    async def call() -> int:
        async with httpx.AsyncClient(verify=emulator.ca_file, auth=HttpxAuth(cred)) as client:
            r = await (client.get(url) if url else client.patch(emulator.api, content=b"[]", headers=JSON))
            return r.status_code

    return lambda: asyncio.run(call())


CLIENTS = {"requests": patch_requests, "httpx": patch_httpx, "httpx-async": patch_httpx_async}


@pytest.mark.parametrize("client", CLIENTS)
def test_the_adapter_attaches_the_token(client: str, host: credplug.Host, emulator: Emulator) -> None:
    tokens = emulator.count("ainua.token")
    with ainua(host, emulator) as cred:
        call = CLIENTS[client](emulator, cred)
        assert [call() for _ in range(3)] == [200, 200, 200]
    assert emulator.count("ainua.token") == tokens + 1


@pytest.mark.parametrize("client", CLIENTS)
def test_a_401_takes_one_new_token_and_one_retry(client: str, host: credplug.Host, emulator: Emulator) -> None:
    with ainua(host, emulator) as cred:
        call = CLIENTS[client](emulator, cred)
        assert call() == 200
        first = cred.headers().generation
        emulator.switch(revoke=1)  # the API refuses every token issued so far
        tokens, api = emulator.count("ainua.token"), emulator.count("ainua.api")
        assert call() == 200
        assert emulator.count("ainua.token") == tokens + 1  # one new token
        assert emulator.count("ainua.api") == api + 2  # the 401, then the retry
        assert cred.headers().generation == first + 1


@pytest.mark.parametrize("client", CLIENTS)
def test_a_second_401_is_the_answer(client: str, host: credplug.Host, emulator: Emulator) -> None:
    with ainua(host, emulator) as cred:
        # Ainua's token at the oauth2 provider's API: refused however new.
        call = CLIENTS[client](emulator, cred, emulator.origin + "/oauth/me")
        tokens, api = emulator.count("ainua.token"), emulator.count("oauth2.api")
        assert call() == 401
        assert emulator.count("oauth2.api") == api + 2  # the request and one retry, no more
        assert emulator.count("ainua.token") == tokens + 2  # the first token, and one after the 401


@pytest.mark.parametrize("client", CLIENTS)
def test_a_refused_token_request_raises(client: str, host: credplug.Host, emulator: Emulator) -> None:
    with ainua(host, emulator) as cred:
        call = CLIENTS[client](emulator, cred)
        assert call() == 200
        emulator.switch(fail_status=401)  # every request refused, the token endpoint's too
        api = emulator.count("ainua.api")
        with pytest.raises(credplug.RejectedError):
            call()  # the retry's new token is refused at the token endpoint
        assert emulator.count("ainua.api") == api + 1
