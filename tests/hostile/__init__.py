"""A hostile test portal: malformed, slow, huge, looping and lying responses on 127.0.0.1.

``python -m tests.hostile`` serves it for manual crawls (see ``__main__``).
"""

from tests.hostile.server import Exchange, Hit, HostileServer
from tests.hostile.site import CASES, Case, HostileSite

__all__ = ["CASES", "Case", "Exchange", "Hit", "HostileServer", "HostileSite"]
