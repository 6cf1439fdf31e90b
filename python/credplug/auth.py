"""Auth adapters for requests and httpx: each request gets the credential's
headers; a 401 drops that token and the request is sent once more with a new
one (Credential.invalidate: one token request however many calls saw the
401). A second 401 is the API's answer, returned as it is.

    session.auth = credplug.auth.RequestsAuth(cred)
    httpx.Client(auth=credplug.auth.HttpxAuth(cred))        # and AsyncClient
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncGenerator, Generator

if TYPE_CHECKING:  # pragma: no cover
    import httpx
    import requests

    from . import Credential

__all__ = ["RequestsAuth", "HttpxAuth"]

_UNAUTHORIZED = 401

try:
    from requests.auth import AuthBase as _RequestsAuthBase
except ImportError:  # requests is optional
    _RequestsAuthBase = object  # type: ignore[assignment,misc]

try:
    import httpx as _httpx
    _HttpxAuthBase = _httpx.Auth
except ImportError:  # httpx is optional
    _HttpxAuthBase = object  # type: ignore[assignment,misc]


class RequestsAuth(_RequestsAuthBase):  # type: ignore[misc,valid-type]
    """requests' auth (`requests.get(url, auth=RequestsAuth(cred))`)."""

    def __init__(self, credential: "Credential") -> None:
        self.credential = credential

    def __call__(self, request: "requests.PreparedRequest") -> "requests.PreparedRequest":
        headers = self.credential.headers()
        for name, value in headers.items():  # one call into the extension, not one per name
            request.headers[name] = value
        # The retry needs the body again: remember where a file body starts.
        position = None
        if hasattr(request.body, "tell"):
            try:
                position = request.body.tell()  # type: ignore[union-attr]
            except OSError:
                position = None
        request.register_hook("response", self._retry_once(headers, position))
        return request

    def _retry_once(self, sent: Any, position: Any) -> Any:
        def hook(response: "requests.Response", **kwargs: Any) -> "requests.Response":
            if response.status_code != _UNAUTHORIZED or getattr(response.request, "_credplug_retried", False):
                return response
            request = response.request
            if hasattr(request.body, "seek"):
                if position is None:
                    return response  # a stream that cannot be sent again
                request.body.seek(position)  # type: ignore[union-attr]
            self.credential.invalidate(sent)
            response.content  # read it, so the connection can be reused
            response.close()
            retry = request.copy()
            for name, value in self.credential.headers().items():
                retry.headers[name] = value
            retry._credplug_retried = True  # type: ignore[attr-defined]
            second = response.connection.send(retry, **kwargs)
            second.history.append(response)
            second.request = retry
            return second

        return hook


class HttpxAuth(_HttpxAuthBase):  # type: ignore[misc,valid-type]
    """httpx's auth, for Client and AsyncClient (`httpx.Client(auth=HttpxAuth(cred))`).
    The async flow waits for a token request on a worker thread."""

    requires_request_body = True  # so the body can be sent again after a 401

    def __init__(self, credential: "Credential") -> None:
        self.credential = credential

    def sync_auth_flow(self, request: "httpx.Request") -> Generator["httpx.Request", "httpx.Response", None]:
        headers = self.credential.headers()
        request.headers.update(headers)
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            self.credential.invalidate(headers)
            request.headers.update(self.credential.headers())
            yield request

    async def async_auth_flow(self, request: "httpx.Request") -> AsyncGenerator["httpx.Request", "httpx.Response"]:
        headers = await self.credential.headers_async()
        request.headers.update(headers)
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            await self.credential.invalidate_async(headers)
            request.headers.update(await self.credential.headers_async())
            yield request
