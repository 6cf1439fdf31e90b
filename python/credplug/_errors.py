"""credplug's errors: one class per status of the C API (host.h), which are
the credplug CLI's exit codes and the sidecar's error kinds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple, Type


@dataclass(frozen=True)
class FieldError:
    """One field that failed validation: where (a JSON Pointer), which field
    (its title), which rule, and a message naming the field, never its value."""

    pointer: str
    field: str
    title: str
    rule: str
    message: str

    @classmethod
    def from_json(cls, e: Dict[str, Any]) -> "FieldError":
        return cls(pointer=e.get("pointer", ""), field=e.get("field", ""), title=e.get("title", ""),
                   rule=e.get("rule", ""), message=e.get("message", ""))


class CredplugError(Exception):
    """Every credplug failure. `status` is the C API's status (the CLI's exit
    code), `kind` its name ("invalid_input", "rejected", ...), `fields` the
    fields that failed validation (empty unless the credential was invalid).
    Messages name fields, limits and origins, never a secret."""

    status: int = 1
    kind: str = "internal"

    def __init__(self, message: str, fields: Tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fields = tuple(fields)


class InternalError(CredplugError):
    """Out of memory, or a fault credplug did not expect."""
    status, kind = 1, "internal"


class MisuseError(CredplugError, ValueError):
    """An argument the API cannot take."""
    status, kind = 2, "misuse"


class InvalidInputError(CredplugError, ValueError):
    """A credential that is not valid for its plugin (see `fields`), an
    unknown plugin, a request that is not one."""
    status, kind = 3, "invalid_input"


class RejectedError(CredplugError):
    """The provider refused the credentials."""
    status, kind = 4, "rejected"


class NetworkError(CredplugError, ConnectionError):
    """DNS, connect, TLS verification or a timeout: worth retrying."""
    status, kind = 5, "network"


class ProviderError(CredplugError):
    """The provider answered outside its contract."""
    status, kind = 6, "provider"


class PluginError(CredplugError):
    """The plugin failed to load, or failed itself."""
    status, kind = 7, "plugin"


class ReauthorizeError(CredplugError):
    """The person must connect the account again (invalid_grant)."""
    status, kind = 8, "reauthorize"


class StateNotSavedError(CredplugError):
    """The credential's new state could not be persisted (on_state raised):
    it is offered again before the next token request."""
    status, kind = 9, "state_not_saved"


_BY_STATUS: Dict[int, Type[CredplugError]] = {
    cls.status: cls
    for cls in (InternalError, MisuseError, InvalidInputError, RejectedError, NetworkError, ProviderError,
                PluginError, ReauthorizeError, StateNotSavedError)
}


def from_status(status: int, message: str) -> CredplugError:
    """The exception for a C API status (called by the native module)."""
    cls = _BY_STATUS.get(status, InternalError)
    return cls(message)
