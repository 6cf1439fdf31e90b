"""credplug for Python: credential plugins' tokens and signatures for any HTTP
client, over credplug's C embedding API (libcredplug-host).

    import credplug, requests
    with credplug.Host() as host, host.open("nexla", credential) as cred:
        requests.get(url, auth=credplug.auth.RequestsAuth(cred))

Thread-safe and fork-safe as the C API is; every call that may wait releases
the GIL, and each has an `_async` twin that never blocks the event loop.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping as _MappingABC
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _errors
from ._errors import (CredplugError, FieldError, InternalError, InvalidInputError, MisuseError, NetworkError,
                      PluginError, ProviderError, ReauthorizeError, RejectedError, StateNotSavedError)
from ._native import Credential, Headers, Signed
from ._native import Host as _NativeHost
from ._native import version

__all__ = [
    "Host", "Credential", "Headers", "Signed", "PendingAuthorization", "FieldError", "version",
    "CredplugError", "InternalError", "MisuseError", "InvalidInputError", "RejectedError", "NetworkError",
    "ProviderError", "PluginError", "ReauthorizeError", "StateNotSavedError",
]

CredentialInput = Union[str, bytes, Mapping[str, Any]]


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization begun: send the person to `url`; keep `pending`
    (sealed, secret) until they come back; it expires at `expires_at`."""

    url: str
    pending: str
    expires_at: int

    def __repr__(self) -> str:
        return f"PendingAuthorization(url={self.url!r}, pending='***', expires_at={self.expires_at})"


class Host(_NativeHost):
    """Plugins, HTTPS and the token cache: one per process is enough, shared by
    every thread. Keyword arguments are credplug_host_options' fields
    (host.h); every one defaults as there."""

    def __init__(self, *, plugin_dirs: Optional[Sequence[str]] = None, use_environment: bool = True,
                 use_default_dir: bool = True, ca_file: Optional[str] = None, isolation: Optional[str] = None,
                 runner_path: Optional[str] = None, pin_file: Optional[str] = None,
                 shared_cache_url: Optional[str] = None, shared_cache_key_file: Optional[str] = None,
                 authorization_key_file: Optional[str] = None, connect_timeout_ms: int = 0,
                 total_timeout_ms: int = 0, log: Optional[Callable[[int, str], None]] = None, log_level: int = 0,
                 json_logs: bool = False, on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
                 runners_without_namespaces: bool = False, runners_without_zygote: bool = False,
                 runners_without_spare: bool = False) -> None:
        super().__init__(plugin_dirs=list(plugin_dirs) if plugin_dirs is not None else None,
                         use_environment=use_environment, use_default_dir=use_default_dir, ca_file=ca_file,
                         isolation=isolation, runner_path=runner_path, pin_file=pin_file,
                         shared_cache_url=shared_cache_url, shared_cache_key_file=shared_cache_key_file,
                         authorization_key_file=authorization_key_file, connect_timeout_ms=connect_timeout_ms,
                         total_timeout_ms=total_timeout_ms, log=log, log_level=log_level, json_logs=json_logs,
                         on_event=on_event, runners_without_namespaces=runners_without_namespaces,
                         runners_without_zygote=runners_without_zygote, runners_without_spare=runners_without_spare)

    def validate(self, plugin: str, credential: CredentialInput) -> List[FieldError]:
        """The fields of `credential` that fail its plugin's schema and offline
        checks; empty when it is valid."""
        result = self.validate_json(plugin, credential)
        return [FieldError.from_json(e) for e in result.get("errors", [])]

    def open(self, plugin: str, credential: CredentialInput, *, label: Optional[str] = None,
             state: Optional[CredentialInput] = None,
             on_state: Optional[Callable[[str], None]] = None) -> Credential:
        """Validates and opens a credential. `state` is its state as last
        persisted; `on_state(json_text)` persists each new one (raise to say
        it could not). InvalidInputError carries the failing `fields`."""
        try:
            return super().open(plugin, credential, label=label, state=state, on_state=on_state)
        except InvalidInputError as e:
            try:
                e.fields = tuple(self.validate(plugin, credential))
            except CredplugError:
                pass  # an unknown plugin: no fields to name
            raise

    def begin_authorization(self, plugin: str, credential: CredentialInput, redirect_uri: str) -> PendingAuthorization:
        """The authorization code grant with PKCE, for a plugin that connects
        a person's account."""
        url, pending, expires_at = self.begin_authorization_tuple(plugin, credential, redirect_uri)
        return PendingAuthorization(url, pending, expires_at)

    async def open_async(self, plugin: str, credential: CredentialInput, **options: Any) -> Credential:
        return await asyncio.to_thread(self.open, plugin, credential, **options)

    async def complete_authorization_async(self, pending: str, redirect_url: str) -> str:
        return await asyncio.to_thread(self.complete_authorization, pending, redirect_url)


# A read-only mapping, for every client that asks isinstance(h, Mapping)
# (httpx, requests' CaseInsensitiveDict.update).
_MappingABC.register(Headers)

from . import auth  # noqa: E402  (the adapters use the names above)
