"""An item pipeline for tests that holds each article a moment, like a slow database would.

While it waits, the article's response is archived but the request is not done: a worker killed
then must leave the request for another worker, which fetches it again as a revisit.
"""

from __future__ import annotations

import asyncio
from typing import Any

LINGER_SECONDS = 1.0
"""Long enough that a test seeing an archived page still in hand can kill its worker before the
page is done, even on a loaded machine (0.4 s was sometimes not)."""


class LingeringPipeline:
    async def process_item(self, item: Any) -> Any:
        await asyncio.sleep(LINGER_SECONDS)
        return item
