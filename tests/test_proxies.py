"""Behind a proxy or a CDN: trusted_proxies (ProxyFix's semantics) names the client, and a site_url that is not
where readers are is a warning and a /healthz problem."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from support.factories import NOW
from support.paths import SEED_POSTS
from support.server import Server
from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.http.origin import Origins
from syndicator.service.http.proxies import Proxies
from syndicator.service.partners import new_token
from syndicator.service.partners import token_hash
from syndicator.store.partners import PartnerStore

FEED = "/partners/feeds/all.atom"


def partner_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], **overrides: Any) -> Any:
    """A test client over one post, with a partner whose token is wrong in every request below."""
    write_post("a.md", title="A")
    settings = make_settings(**overrides)
    builder = Builder(settings)
    builder.reload(NOW)
    store = PartnerStore(settings.state_dir)
    store.add("acme", token_hash(new_token()), NOW.timestamp())
    return create_app(settings, builder, partners=store).test_client()


def wrong_token(client: Any, peer: str, forwarded_for: str | None = None, real_ip: str | None = None) -> int:
    headers = {"Authorization": "Bearer synp_" + "x" * 43}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    if real_ip is not None:
        headers["X-Real-IP"] = real_ip
    return int(client.get(FEED, headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code)


def test_a_trusted_proxy_names_the_client(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Behind nginx on loopback, one reader's wrong tokens brake that reader, not every reader behind the proxy.

    The client is the last X-Forwarded-For address (the one the trusted proxy added), as ProxyFix takes it:
    the first ones are whatever the client sent.
    """
    client = partner_site(make_settings, write_post)
    for _attempt in range(5):
        assert wrong_token(client, "127.0.0.1", "203.0.113.1, 198.51.100.7") == 401
    assert wrong_token(client, "127.0.0.1", "203.0.113.1, 198.51.100.7") == 429
    assert wrong_token(client, "127.0.0.1", "198.51.100.7, 198.51.100.8") == 401  # another reader
    assert wrong_token(client, "127.0.0.1", real_ip="198.51.100.7") == 429  # nginx's X-Real-IP: the same reader
    assert wrong_token(client, "127.0.0.1", real_ip="198.51.100.9") == 401


def test_anyone_elses_forwarding_headers_are_ignored(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A peer outside trusted_proxies is the client, whatever it names: it cannot dodge the brake by naming others."""
    client = partner_site(make_settings, write_post, trusted_proxies=("10.0.0.0/8",))
    statuses = [wrong_token(client, "192.0.2.50", f"198.51.100.{n}", f"203.0.113.{n}") for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    assert wrong_token(client, "10.1.2.3", "198.51.100.1") == 401  # the CDN's edge names another client
    assert wrong_token(client, "127.0.0.1", "192.0.2.50") == 401  # loopback is no proxy here: it is a client


def test_proxies_trust_addresses_and_blocks() -> None:
    """trusted_proxies holds addresses and CIDR blocks; an IPv4-mapped peer is its IPv4 address."""
    proxies = Proxies(("127.0.0.0/8", "::1", "2001:db8::/32", "192.0.2.7"))
    assert [proxies.trusted(p) for p in ("127.0.0.2", "::1", "2001:db8::5", "::ffff:192.0.2.7", "192.0.2.8")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert not proxies.trusted("not an address") and not proxies.trusted(None)


def proxied_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], **overrides: Any) -> Any:
    """A test client over one post, behind the proxy on loopback; site_url https://Blog.example.org/ unless named."""
    write_post("a.md", title="A")
    settings = make_settings(**({"site_url": "https://Blog.example.org/"} | overrides))
    builder = Builder(settings)
    builder.reload(NOW)
    return create_app(settings, builder).test_client()


@pytest.fixture
def site(tmp_path: Path, start_server: Callable[..., Server]) -> Server:
    """serve over the seed posts with the quick start's site_url (the address it listens on)."""
    shutil.copytree(SEED_POSTS, tmp_path / "posts")
    return start_server(tmp_path)


def test_readers_who_reach_another_address_are_a_warning_and_a_problem(site: Server) -> None:
    """Feeds served to https://blog.example.org that link to http://127.0.0.1:<port>: once three readers reached it,
    one warning in the log, and /healthz lists it (degraded) until fixed; a local health check or an invalid Host is
    no reader."""
    assert site.get("/healthz").json()["status"] == "ok"
    for n, path in enumerate(("/feeds/all.atom", "/", "/feeds/all.rss")):
        assert site.get("/healthz").json()["status"] == "ok", "fewer than three readers reached it"
        proxied = {
            "X-Forwarded-Host": "blog.example.org",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": f"192.0.2.{n}",
        }
        assert site.get(path, headers=proxied).status_code == 200
    site.get("/feeds/all.atom", headers={"X-Forwarded-Host": "evil example.org", "X-Forwarded-Proto": "https"})
    site.get("/feeds/all.atom", headers={"Host": "localhost:1"})  # curl on the host: no proxy, no reader
    body = site.get("/healthz").json()
    assert body["status"] == "degraded"
    message = f"feeds link to {site.url} but readers reach https://blog.example.org"
    assert [p["message"] for p in body["problems"]] == [f"{message} (set site_url)"]
    lines = site.log.read_text().splitlines()
    warnings = [line for line in lines if "site_url is not the address requests reach" in line]
    assert len(warnings) == 1 and "reached_at=https://blog.example.org" in warnings[0]


def test_hosts_a_client_makes_up_are_no_problem(site: Server) -> None:
    """One client sending 300 made-up Hosts (a visitor's curl through nginx), two clients sending the same one, three
    addresses of one IPv6 /64: /healthz stays ok and nothing is logged; three readers who reach blog.example.org
    after all that are still a problem, the only one."""
    with requests.Session() as session:
        for n in range(300):
            headers = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Host": f"fake{n}.example"}
            assert session.get(site.url + "/", headers=headers, timeout=10).status_code == 200
        others = [("203.0.113.6", "fake0"), ("203.0.113.7", "fake0")]
        others += [(f"2001:db8:1:2:{n}::1", "fake1") for n in range(3)]  # one /64: one client
        for client, host in others:
            headers = {"X-Forwarded-For": client, "X-Forwarded-Host": f"{host}.example"}
            assert session.get(site.url + "/", headers=headers, timeout=10).status_code == 200
    assert site.get("/healthz").json()["status"] == "ok"
    assert "site_url is not the address requests reach" not in site.log.read_text()
    for n in range(3):
        proxied = {
            "X-Forwarded-Host": "blog.example.org",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": f"192.0.2.{n}",
        }
        assert site.get("/feeds/all.atom", headers=proxied).status_code == 200
    body = site.get("/healthz").json()
    message = f"feeds link to {site.url} but readers reach https://blog.example.org (set site_url)"
    assert (body["status"], [p["message"] for p in body["problems"]]) == ("degraded", [message])


def test_readers_who_reach_the_site_url_are_no_problem(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """site_url's own host and scheme, through the proxy (default port or not, any case): nothing to say."""
    client = proxied_site(make_settings, write_post)
    for host in ("blog.example.org", "BLOG.example.org:443"):
        proxied = {"X-Forwarded-Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
        assert client.get("/feeds/all.atom", headers=proxied).status_code == 200
    body = client.get("/healthz").get_json()
    assert (body["status"], body["problems"]) == ("ok", [])
    for reader in ("x", "192.0.2.1", "192.0.2.2"):
        client.get("/feeds/all.atom", headers={"X-Forwarded-Host": "blog.example.org:8443", "X-Forwarded-For": reader})
    assert (
        client.get("/healthz")
        .get_json()["problems"][0]["message"]
        .startswith("feeds link to https://Blog.example.org but readers reach http://blog.example.org:8443")
    )


def test_a_flood_of_made_up_hosts_from_many_clients_leaves_the_readers_origin_listed_first(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """Made-up Hosts from 400 clients, before and after ten readers reach https://blog.example.org, and six made-up
    Hosts three clients each reached: the readers' origin is listed first, then the most reached, five in all."""
    client = proxied_site(make_settings, write_post, site_url="https://blog.example.net")

    def reach(host: str, reader: str) -> None:
        headers = {"X-Forwarded-Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": reader}
        assert client.get("/feeds/all.atom", headers=headers).status_code == 200

    for n in range(200):
        reach(f"fake{n}.example", f"10.0.{n // 250}.{n % 250}")
    for n in range(10):
        reach("blog.example.org", f"192.0.2.{n}")
    for n in range(6):
        for witness in range(3 + (n == 5)):
            reach(f"made-up{n}.example", f"198.51.{100 + n}.{witness}")
    for n in range(200, 400):
        reach(f"fake{n}.example", f"10.0.{n // 250}.{n % 250}")
    listed = [p["message"] for p in client.get("/healthz").get_json()["problems"]]
    others = ["blog.example.org", "made-up5.example", "made-up0.example", "made-up1.example", "made-up2.example"]
    assert listed == [
        f"feeds link to https://blog.example.net but readers reach https://{o} (set site_url)" for o in others
    ]


@pytest.mark.parametrize("reached", ["xn--bcher-kva.example", "bücher.example.", "XN--BCHER-KVA.EXAMPLE:80"])
def test_an_internationalized_site_url_reached_by_its_punycode_is_no_problem(reached: str) -> None:
    """site_url `http://bücher.example`: nginx passes the Host as readers send it, in Punycode, and the check
    reported "readers reach http://xn--bcher-kva.example", its own address (a final dot likewise)."""
    origins = Origins("http://bücher.example")
    for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        origins.saw({"wsgi.url_scheme": "http", "HTTP_HOST": reached, "REMOTE_ADDR": client})
    assert origins.problems == []
    for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        origins.saw({"wsgi.url_scheme": "http", "HTTP_HOST": "andere.example", "REMOTE_ADDR": client})
    assert origins.problems == [
        "feeds link to http://bücher.example but readers reach http://andere.example (set site_url)"
    ]
