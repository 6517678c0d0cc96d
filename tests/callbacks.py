"""Drive a spider callback outside a crawl: its results as a list, whether it is sync or async."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any


def collect(results: Iterable[Any] | AsyncIterator[Any]) -> list[Any]:
    """Every result of a callback, in order (an async generator is run to its end on a fresh loop)."""
    if isinstance(results, AsyncIterator):

        async def drain() -> list[Any]:
            return [result async for result in results]

        return asyncio.run(drain())
    return list(results)
