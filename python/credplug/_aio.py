"""asyncio helpers of the native module."""
from typing import TypeVar

T = TypeVar("T")


async def ready(value: T) -> T:
    """An awaitable of a value already at hand (a cached token's headers)."""
    return value
