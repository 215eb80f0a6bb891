"""The route table: top to bottom, which handler answers which URL. The one place that says it.

The first rows are the handlers that answer from the Snapshot before the app's
views (no Flask routing or request object: feeds are the hot path). Each one
takes every path that starts with its pattern's fixed part, answers it or
passes it on to the next row (an asset the snapshot does not list, a page
asked with a query string). The rows below are the app's views, matched as
Werkzeug matches rules; ``tests/test_routes.py`` checks that no two of them
both match one URL in an order Werkzeug would not keep. A row with a ``query``
is tried before the view rows whenever the path is its own and the query has
that key (``/?p=<id>``). The deployment mirrors this table (``syndicator
routes``): the ``files`` rows answer files under output_dir, which nginx may
serve itself; everything else goes to ``syndicator serve``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import RequestRedirect
from werkzeug.routing import Rule

from syndicator.core.actors import ACTORS
from syndicator.core.actors import OBJECTS
from syndicator.core.actors import SHARED_INBOX
from syndicator.core.sitemap import FAVICON
from syndicator.core.sitemap import ROBOTS
from syndicator.core.sitemap import SITEMAP
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import FORMATS
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.core.urls import POSTS_PREFIX
from syndicator.service.http import fediweb
from syndicator.service.http import followpages
from syndicator.service.http import oldurls
from syndicator.service.http import views
from syndicator.service.http import wpurls
from syndicator.service.http.assets import MEDIA_PATH
from syndicator.service.http.assets import Assets
from syndicator.service.http.context import KINDS
from syndicator.service.http.feeds import Feeds
from syndicator.service.http.pages import Pages
from syndicator.service.http.partners import Partners
from syndicator.service.http.sitefiles import SiteFiles
from syndicator.service.http.statspage import stats_page
from syndicator.service.http.websub import websub

READ = ("GET", "HEAD")
ALL = ("GET", "HEAD", "POST")
EXTENSIONS = f"any({', '.join(FORMATS)})"  # a feed file's extension, as a rule's converter
PARTNERS_NOTE = "for a partner's token: its feeds, the pages and media/ files of posts for partners only"
ANY = ("*",)
SITE_PAGE_NOTE = "a page (type: page) asked with a query string; else an old permalink by its last segment: 301"
TRAIL_NOTE = "a child category under its parents (and feed/, page/<n>/), feed/rss2/: 301 to ours"
ROOT_FILES = f"any({SITEMAP}, {ROBOTS}, {FAVICON})"  # the root files' names, as a rule's converter
ROOT: dict[str, Any] = {"front": True, "files": True}  # a file of output_dir answered at the site's root


@dataclass(frozen=True, slots=True)
class Route:
    """One row: a URL pattern (Werkzeug's rule syntax) beside what answers it, and what the answer is."""

    pattern: str
    view: Callable[..., Any]  # a handler class (``front``: made once per app), or a view function
    note: str
    methods: tuple[str, ...] = READ
    front: bool = False  # answered before the views, from the Snapshot; may pass the request on
    files: bool = False  # answered from files under output_dir (a static server may answer these itself)
    query: str = ""  # a view tried before the others, for this path with this query key
    strict_slashes: bool = True  # False: the path without its last slash is answered too

    @property
    def name(self) -> str:
        """The handler, as ``module.name`` within service/http/."""
        return f"{self.view.__module__.rpartition('.')[2]}.{self.view.__name__}"

    @property
    def prefix(self) -> str:
        """The fixed start of the pattern: the paths a front row takes."""
        return self.pattern.partition("<")[0]

    @property
    def shown(self) -> str:
        return f"{self.pattern}?{self.query}=" if self.query else self.pattern


ROUTES: tuple[Route, ...] = (
    # Answered from the Snapshot, before the app's views: each takes the paths its pattern starts with.
    Route(f"{PARTNERS_ROOT}/<path:rest>", Partners, PARTNERS_NOTE, methods=ANY, front=True),
    Route(
        f"{MEDIA_PATH}<path:name>", Assets, "an asset a post uses (ranges); 503 while replaced", front=True, files=True
    ),
    Route(f"{FEEDS_PREFIX}<path:name>", Feeds, "a feed, archive page, OPML; 503 before loaded", front=True, files=True),
    # The site's root files, made by each reload and written to output_dir too (a static server may answer them).
    Route(f"/{SITEMAP}", SiteFiles, "every post, page and archive for search engines; an index past 50,000", **ROOT),
    Route("/sitemap-<int:number>.xml", SiteFiles, "a part of the sitemap, past 50,000 addresses", **ROOT),
    Route(
        f"/{ROBOTS}",
        SiteFiles,
        "robots.txt: where the sitemap is; the partners' and stats addresses not crawled",
        **ROOT,
    ),
    Route(f"/{FAVICON}", SiteFiles, "the icon: theme_dir's static/favicon.ico, or the package's", **ROOT),
    Route("/<path:page>", Pages, "a page of the snapshot (and /), asked without a query string", front=True),
    # The app's views.
    # An imported WordPress site's query addresses (through [redirects], where the import wrote its ids).
    Route("/", wpurls.query_feed, "?feed=rss2|atom (&cat=, &tag=, &author=): 301 to that feed", ANY, query="feed"),
    Route("/", oldurls.old_query_permalink, "WordPress's default permalink: 301 to the post", ANY, query="p"),
    Route("/", wpurls.query_page, "?page_id=<id>: 301 to the page", ANY, query="page_id"),
    Route("/", wpurls.query_attachment, "?attachment_id=<id>: 301 to its post, else 404", ANY, query="attachment_id"),
    Route("/", wpurls.query_listing, "?s=<words>: no search here, 404", ANY, query="s"),
    Route("/", wpurls.query_listing, "?m=<YYYYMM>: no date archives here, 404", ANY, query="m"),
    Route("/", wpurls.query_term, "?cat=<id> (&paged=): 301 to its archive page", ANY, query="cat"),
    Route("/", wpurls.query_term, "?category_name=<slug>: 301 to its archive page", ANY, query="category_name"),
    Route("/", wpurls.query_term, "?tag=<slug>: 301 to its archive page", ANY, query="tag"),
    Route("/", wpurls.query_term, "?author=<id>: 301 to its archive page", ANY, query="author"),
    Route("/", views.index, "the home page (asked with a query string)"),
    Route("/page/<int:number>/", views.home_page, "the home page's older posts; page/1/ 301 to /"),
    Route(f"/<{KINDS}:kind>/<slug>/", views.taxonomy_page, "an archive page; 410 once its last post went"),
    Route(f"/<{KINDS}:kind>/<slug>/page/<int:number>/", views.taxonomy_paged, "an archive's older posts"),
    Route(f"{POSTS_PREFIX}<slug>/", views.post_page, "a post's page; a renamed post 301, a deleted one 410"),
    Route(f"{FEEDS_PREFIX}<{KINDS}:kind>/<slug>.<{EXTENSIONS}:ext>", oldurls.old_taxonomy_feed, "410 once gone"),
    Route(f"{FEEDS_PREFIX}<{KINDS}:kind>/<slug>/archive/<int:number>.atom", oldurls.old_taxonomy_feed, "410 once gone"),
    Route(f"{FEEDS_PREFIX}<path:subpath>", views.unknown_feed, "no such feed: 404 in plain text"),
    Route(f"/<{ROOT_FILES}:name>", views.not_made, "a root file before the first load: 404 (other methods: 405)"),
    Route("/sitemap-<int:number>.xml", views.not_made, "a part of the sitemap not made: 404 (other methods: 405)"),
    Route("/index.html", wpurls.index_html, "a static site's name for the home page: 301 to /"),
    Route("/<path:rest>/index.html", wpurls.index_html, "a folder's page as a static site names it: 301 to the folder"),
    Route("/feed/", oldurls.wp_feed, "WordPress's feed: 301 to the site's RSS feed"),
    Route("/feed/atom/", oldurls.wp_feed_atom, "301 to the site's Atom feed"),
    Route(f"/<{KINDS}:kind>/<slug>/feed/", oldurls.wp_taxonomy_feed, "301 to its RSS feed"),
    Route(f"/<{KINDS}:kind>/<slug>/feed/atom/", oldurls.wp_taxonomy_feed_atom, "301 to its Atom feed"),
    Route("/feed/<any(rss2, rss, rdf):name>/", wpurls.feed_name, "WordPress's other feed names: 301 to the RSS feed"),
    Route(f"/<{KINDS}:kind>/<path:trail>/", wpurls.taxonomy_trail, TRAIL_NOTE),
    Route("/websub", websub, "the built-in hub's (un)subscribe requests; 404 with another hub", ("POST",)),
    Route("/healthz", views.healthz, "the service's state, as JSON"),
    Route("/static/<path:filename>", views.static_file, "the stylesheets and icon of the package's static/"),
    Route("/stats/", stats_page, "readers per feed and partners, for the stats token"),
    # The fediverse (``fediverse`` on; 404 otherwise): discovery, then each account's documents and inbox.
    Route("/.well-known/webfinger", fediweb.webfinger, "RFC 7033: ?resource=acct:<handle>@<host> -> the account"),
    Route("/.well-known/nodeinfo", fediweb.nodeinfo_index, "where NodeInfo is"),
    Route("/.well-known/host-meta", fediweb.host_meta_document, "where WebFinger is (XRD)"),
    Route("/nodeinfo/2.1", fediweb.nodeinfo_document, "NodeInfo 2.1"),
    Route(SHARED_INBOX, fediweb.shared_inbox, "signed Follow / Undo for any account", ("POST",)),
    Route(f"{ACTORS}<handle>", fediweb.actor, "an account's actor document (a browser: 303 to its page)"),
    Route(f"{ACTORS}<handle>/inbox", fediweb.actor_inbox, "signed Follow / Undo for this account", ("POST",)),
    Route(f"{ACTORS}<handle>/outbox", fediweb.outbox, "an account's posts, as activities"),
    Route(f"{ACTORS}<handle>/followers", fediweb.followers, "how many follow it"),
    Route(f"{ACTORS}<handle>/following", fediweb.following, "none"),
    Route(f"{ACTORS}<handle>{OBJECTS}<key>", fediweb.post_object, "a post as an Article"),
    # Following by email (``smtp_url`` set; 404 otherwise).
    Route("/subscribe", followpages.subscribe, "the subscribe form's POST: a confirmation mail", ("POST",)),
    Route("/confirm/<token>", followpages.confirm, "a page and its button; POST: the subscription starts", ALL),
    Route("/unsubscribe/<token>", followpages.unsubscribe, "a page and its button; POST: at once (RFC 8058)", ALL),
    # An imported WordPress site's permalinks: 301 to the post, through [redirects]; its uploads and index.php.
    Route("/wp-content/uploads/<path:name>", wpurls.upload, "an upload the import brought: 301 to its file"),
    Route("/index.php", wpurls.index_php, "WordPress without rewrites: 301 to the address without index.php"),
    Route("/index.php/<path:rest>", wpurls.index_php, "301 to the same address without /index.php"),
    Route("/<int:year>/<int:month>/<int:day>/<slug>/", oldurls.old_permalink, "301 to the post", strict_slashes=False),
    Route("/<int:year>/<int:month>/<slug>/", oldurls.old_permalink, "301 to the post", strict_slashes=False),
    Route("/archives/<int:post_id>/", oldurls.old_numeric_permalink, "301 to the post", strict_slashes=False),
    Route("/<slug>/", oldurls.old_permalink, "an old slug: 301 to the post", strict_slashes=False),
    Route("/<path:path>/", oldurls.site_page, SITE_PAGE_NOTE, strict_slashes=False),
)
# Before the view of any row with <kind> and <slug>: a slug renamed in [redirects] answers 301 under its new one.
RENAMED = oldurls.renamed_taxonomy


def rule(route: Route) -> Rule:
    """A view row as Werkzeug's rule (its endpoint is the view's name)."""
    methods = None if route.methods == ANY else list(route.methods)
    return Rule(route.pattern, endpoint=route.view.__name__, methods=methods, strict_slashes=route.strict_slashes)


def tried(path: str, method: str = "GET", query: str = "", routes: tuple[Route, ...] = ROUTES) -> list[Route]:
    """The rows that may answer a request, in the order they are tried: the front rows that take its path,
    a query row, then the one view row Werkzeug's matching picks (none: the app's 404)."""
    found = [r for r in routes if r.front and path.startswith(r.prefix) and (r.methods == ANY or method in r.methods)]
    keys = {part.partition("=")[0] for part in query.split("&") if part}
    found += [r for r in routes if r.query and r.pattern == path and r.query in keys]
    adapter = Map([rule(r) for r in routes if not r.front and not r.query]).bind("localhost")
    try:
        endpoint, _values = adapter.match(path, method)
    except RequestRedirect:
        endpoint, _values = adapter.match(path + "/", method)
    except (NotFound, MethodNotAllowed):
        return found
    return [*found, next(r for r in routes if matches(r, path, method) and r.view.__name__ == endpoint)]


def matches(route: Route, path: str, method: str = "GET") -> bool:
    """Whether a view row's own pattern takes this path (whatever the rows above it take)."""
    adapter = Map([rule(route)]).bind("localhost")
    try:
        adapter.match(path, method)
    except RequestRedirect:
        return True
    except (NotFound, MethodNotAllowed):
        return False
    return True


def table(routes: tuple[Route, ...] = ROUTES) -> list[str]:
    """The table as text, one row a line: pattern, methods, handler, what it answers (``syndicator routes``)."""
    rows = [("PATTERN", "METHODS", "HANDLER", "ANSWERS")]
    for route in routes:
        where = "snapshot, files" if route.files else "snapshot" if route.front else "view"
        rows.append((route.shown, ",".join(route.methods), route.name, f"[{where}] {route.note}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[3]]) for row in rows]
