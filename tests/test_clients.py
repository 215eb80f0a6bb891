"""Who a request comes from, and the brake on failed attempts (SPEC "Private feeds for partners"): a client is an
address (an IPv6 /64), and each failure past the free ones waits twice as long, up to a bound."""

from __future__ import annotations

from syndicator.service.clients import Throttle
from syndicator.service.clients import client_key


def test_the_throttle_keys_by_client_and_credential() -> None:
    """A pair of client and wrong credential waits after `free` failures; the client alone only after `guesses`
    failures of any credentials; an IPv4-mapped address is its IPv4 address."""
    throttle = Throttle(free=2, guesses=5, clock=lambda: 0.0)
    throttle.failed("192.0.2.1", "a")
    throttle.failed("::ffff:192.0.2.1", "a")
    assert throttle.wait("192.0.2.1", "a") > 0 and throttle.wait("192.0.2.1", "b") == 0
    assert throttle.wait("::ffff:192.0.2.2", "a") == 0
    for guess in "cde":
        throttle.failed("192.0.2.1", guess)
    assert throttle.wait("192.0.2.1", "f") > 0, "five wrong credentials: someone is guessing"
    throttle.forget("192.0.2.1", "a")
    assert throttle.wait("192.0.2.1", "a") > 0, "a good credential does not open the door to guesses"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1" and client_key("2001:db8::5") == "2001:db8::/64"


def test_the_throttle_doubles_and_stays_bounded() -> None:
    """The free-th failure shuts the door, each next one twice as long, up to `longest`; memory stays bounded."""
    now = [0.0]
    throttle = Throttle(free=2, base=1.0, longest=8.0, size=100, clock=lambda: now[0])
    waits = []
    for _ in range(7):
        throttle.failed("203.0.113.1")
        waits.append(throttle.wait("203.0.113.1"))
    assert waits == [0, 1, 2, 4, 8, 8, 8]
    assert throttle.wait("2001:db8::1") == 0
    for n in range(6):
        throttle.failed(f"2001:db8::{n:x}")  # one /64: one client
    assert throttle.wait("2001:db8::ffff") > 0
    now[0] = 100.0
    assert throttle.wait("203.0.113.1") == 0
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle._clients) == 100
