"""HTTP requests to WebSub callbacks: one look-up, a connection to the very address checked, a total deadline.

``parse_callback`` checks a URL's syntax only (no DNS look-up: it runs on web
requests). ``send`` runs on the hub's own threads: through ``outbound`` it
resolves the host once, refuses private addresses (unless allowed), connects
to the checked address while Host, SNI and the certificate check still use the
name, and gives up at the deadline however slowly the other end answers.
The hub runs these requests on its lanes (``lanes.Lanes``: one at a time per
callback host, the hosts in turn).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from syndicator.outbound import Deadline
from syndicator.outbound import RefusedError
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.outbound import any_address
from syndicator.outbound import exchange
from syndicator.outbound import is_public
from syndicator.outbound import parse_target
from syndicator.outbound import vetted_addresses

logger = logging.getLogger(__name__)

MAX_URL_BYTES = 2048
DEADLINE = 20.0  # seconds for a whole request, from the look-up to the last byte read
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    """What a callback answered: its status and the start of its body, or status 0 and why there was no answer."""

    status: int
    body: bytes = b""
    error: str = ""


def parse_callback(url: str, max_bytes: int = MAX_URL_BYTES) -> Target:
    """Check a callback URL's syntax (no look-up); raise RefusedError with the reason if refused."""
    return parse_target(url, "hub.callback", max_bytes)


def send(
    target: Target,
    method: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str],
    allow_private: bool,
    resolve: Resolve,
    deadline: float = DEADLINE,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> Reply:
    """Send one request to a callback and read at most ``max_bytes`` of the answer, within the deadline."""
    clock = Deadline(deadline)
    try:
        addresses = vetted_addresses(target, any_address if allow_private else is_public, resolve)
        clock.remaining()  # a slow look-up counts against the deadline too
        with exchange(target, addresses, clock, method, body=body, headers=headers) as response:
            return Reply(int(response.status), response.read(max_bytes))
    except RefusedError as exc:
        return Reply(0, error=str(exc))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = f"no answer within the {deadline:g}s deadline" if clock.passed else f"{type(exc).__name__}: {exc}"
        return Reply(0, error=reason)
    finally:
        clock.close()
