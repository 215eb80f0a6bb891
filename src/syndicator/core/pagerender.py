"""HTML pages from their specs and their posts' excerpts: archive pages, post pages, pages and the 404 page (Jinja).

An archive page is its frame (a head and a tail) around its posts' excerpts:
each post's excerpt is rendered once and joined into every page that lists it
(the home page, its categories', tags' and author's pages), the way feed
entries are, and a frame stays while only the posts on its page change.
Every link is absolute under site_url (the stylesheet and icon: by path).
The templates are given as text with the file each came from (the caller
reads them: the theme's first, then the package's; Jinja's ChoiceLoader finds
a name in the first that has it), so rendering stays pure. A template that
cannot compile is a TemplateProblem naming its file and line, raised when the
renderer is made, never when a page is asked for. Deterministic. No I/O.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import TypeVar
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader
from jinja2 import Environment
from jinja2 import FunctionLoader
from jinja2 import StrictUndefined
from jinja2 import TemplateError
from jinja2 import TemplateSyntaxError

from syndicator.config import Settings
from syndicator.core.actors import actor_url
from syndicator.core.actors import display_handle
from syndicator.core.actors import handle_of
from syndicator.core.assets import site_image_urls
from syndicator.core.catalog import author_slug
from syndicator.core.history import whole_second
from syndicator.core.languages import direction
from syndicator.core.pageplan import Directory
from syndicator.core.pageplan import PageSpec
from syndicator.core.summary import description as summary_description
from syndicator.core.urls import HOME
from syndicator.core.urls import OPML
from syndicator.core.urls import archive_base
from syndicator.core.urls import feed_url
from syndicator.core.urls import file_url
from syndicator.core.urls import post_url
from syndicator.model import Enclosure
from syndicator.model import Image
from syndicator.model import Post
from syndicator.problem import LoadProblem

ENTRIES = "\0entries\0"  # where an archive page's excerpts go (no text of a page can hold a NUL)
HEADINGS = {"category": "Category Archives", "tag": "Tag Archives", "author": "Author Archives"}
DIRECTORY_TITLES = {"page": "Pages", "category": "Categories", "tag": "Tags", "author": "Authors"}
# In a <script> element, "</script>" or "<!--" ends or confuses it: JSON escapes keep every such character out.
_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
# What a template may do wrong while rendering (Jinja's own errors, and a filter or attribute given the wrong value).
RENDER_ERRORS = (TemplateError, TypeError, ValueError, AttributeError, LookupError, ArithmeticError)
_T = TypeVar("_T")
Templates = Mapping[str, tuple[str, str]]  # file name -> (its text, the file it came from)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # English, whatever the locale (as the pages' words are)


class TemplateProblem(Exception):
    """A template that cannot be used: its file, the line, what is wrong (``path:line: message``)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True, slots=True)
class Failure:
    """Where a theme's template failed on a page's values, and whether that page is of a post the public may not see."""

    problem: TemplateProblem
    private: bool


class Failures:
    """The pages a theme's templates failed to draw, each drawn with the package's instead, by (what was drawn, of
    which: a post's file, a page's path): each kept until that page is drawn with the theme's again, or is gone."""

    def __init__(self) -> None:
        self.by_page: dict[tuple[str, str], Failure] = {}
        self._told: set[tuple[str, str]] = set()

    def settle(self, drawn: Callable[[], Collection[str]]) -> list[LoadProblem]:
        """Forget the pages no longer ``drawn`` (by file or path; the 404 page stays; asked only when some page
        failed, as a reload without a failure, the usual one, has no use for it); the problems not told before."""
        if self.by_page:
            shown = drawn()
            self.by_page = {what: f for what, f in self.by_page.items() if not what[1] or what[1] in shown}
        new, self._told = self.by_page.keys() - self._told, set(self.by_page)
        return [problem for what, problem in self._problems() if what in new]

    def problems(self) -> list[LoadProblem]:
        """Each failure as a warning naming the template's file and line, and the page."""
        return [problem for _what, problem in self._problems()]

    def _problems(self) -> list[tuple[tuple[str, str], LoadProblem]]:
        said = []
        for (what, of), failed in sorted(self.by_page.items()):
            page = f"the {what} of {of}" if of else f"the {what}"
            message = f"{failed.problem.message} ({page}: drawn with the package's templates)"
            problem = LoadProblem(failed.problem.path, failed.problem.line, message, False, failed.private)
            said.append(((what, of), problem))
        return said


class PageRenderer:
    """The site's pages, rendered with the templates of each layer (the theme's, then the package's) under one settings.

    Every page's links are absolute under site_url; the stylesheet and icon
    are under site_url's path ``/static/``, from the host the page came from.
    Every template is compiled here: one that cannot is a TemplateProblem.
    With a theme, a page its templates fail to draw on one post's values (a
    category the post lacks, a division by zero) is drawn with the package's
    templates instead, and the failure is kept in ``failed`` until that page
    is drawn with the theme's again: one post never stops the others' pages.
    """

    def __init__(self, layers: Sequence[Templates], settings: Settings) -> None:
        self.settings = settings
        self.fallback = PageRenderer(layers[-1:], settings) if len(layers) > 1 else None  # the package's templates
        self.failed = Failures()
        self._theme_files = {path for layer in layers[:-1] for _text, path in layer.values()}
        self.env = env = _environment(layers, settings)
        for name in sorted({name for layer in layers for name in layer}):
            compiled(env, name)
        macros = vars(env.get_template("_entry.html").module)  # the macros _entry.html defines, by name
        self._excerpt: Callable[[Post, Sequence[str]], str] = macros["excerpt"]
        env.globals.update(site_header=macros["site_header"](), site_footer=macros["site_footer"]())  # made once

    def excerpt(self, post: Post, labels: Sequence[str]) -> bytes:
        """A post as archive pages list it: title, date, author, excerpt, "Continue reading", terms.

        ``labels``: the displayed names of its categories, in their order.
        """
        return self._drawn(("excerpt", post.path), post.private, lambda r: str(r._excerpt(post, labels)).encode())

    def archive_frame(self, spec: PageSpec, directory: Directory = ()) -> tuple[bytes, bytes]:
        """What a page of an archive shows around its posts' excerpts: its head and its tail.

        It depends on the archive, the page's number, the number of pages and
        whether it has any post, not on which: when a new post moves every post
        one place down, the frames stay. The home page's first page lists ``directory``.
        """
        return self._drawn(("archive page", spec.path), False, lambda r: r._archive_frame(spec, directory))

    def _archive_frame(self, spec: PageSpec, directory: Directory) -> tuple[bytes, bytes]:
        archive = spec.archive
        home = archive.kind == HOME
        name = self.settings.site_title if home else archive.name
        heading = name if home else f"{HEADINGS[archive.kind]}: {archive.name}"
        template = "index.html" if home else "category.html"
        page = self.render(
            template,
            spec=spec,
            archive=archive,
            heading=heading,
            page_title=name if spec.page == 1 else f"{name} — Page {spec.page}",
            canonical=self._url(spec.path),
            newer=self._url(spec.newer),
            older=self._url(spec.older),
            feed_stem=archive.feed_stem,
            feed_title=name if home else f"{self.settings.site_title} — {archive.name}",
            directory=[(kind, DIRECTORY_TITLES[kind], groups) for kind, groups in directory] if spec.page == 1 else (),
            empty=not spec.posts,
            entries=ENTRIES,
        )
        head, found, tail = page.partition(ENTRIES)
        if not found:
            where = self.env.get_template(template).filename or template
            raise TemplateProblem(where, 0, "an archive template must show {{ entries | safe }} (the posts' excerpts)")
        return head.encode("utf-8"), tail.encode("utf-8")

    def post_page(
        self, post: Post, labels: Sequence[str], *, older: Post | None = None, newer: Post | None = None
    ) -> bytes:
        """A post's own page: the full post, with canonical link, OpenGraph and a JSON-LD BlogPosting.

        ``older`` and ``newer``: the posts published just before and after it (the previous and next post links).
        """
        return self._drawn(("page", post.path), post.private, lambda r: r._post_page(post, labels, older, newer))

    def _post_page(self, post: Post, labels: Sequence[str], older: Post | None, newer: Post | None) -> bytes:
        description = summary_description(post.summary_html)
        image = featured_image(post)
        page = self.render(
            "post.html",
            post=post,
            labels=labels,
            previous_post=older,
            next_post=newer,
            canonical=post_url(self.settings, post),
            description=description,
            image=image,
            json_ld=script_json(blog_posting(post, self.settings, description, image)),
        )
        return page.encode("utf-8")

    def site_page(self, page: Post) -> bytes:
        """A page (``type: page``) as served at its path: its title and content; no date, terms or feeds of its own."""
        canonical, description = f"{self.settings.base_url}{page.page_path}", summary_description(page.summary_html)
        return self._drawn(
            ("page", page.path),
            page.private,
            lambda r: r.render("page.html", post=page, canonical=canonical, description=description).encode(),
        )

    def not_found(self) -> bytes:
        """The page of a 404: in the site's style, with the way home and to the feeds."""
        return self._drawn(("404 page", ""), False, lambda r: r.render("404.html").encode("utf-8"))

    def _drawn(self, what: tuple[str, str], private: bool, draw: Callable[[PageRenderer], _T]) -> _T:
        """``draw`` with this renderer; where the theme's templates fail, with the package's (the failure kept)."""
        if self.fallback is None:
            return draw(self)
        try:
            drawn = draw(self)
        except RENDER_ERRORS as exc:
            self.failed.by_page[what] = Failure(render_problem(exc, self._theme_files), private)
            return draw(self.fallback)
        self.failed.by_page.pop(what, None)
        return drawn

    def render(self, template: str, **context: Any) -> str:
        """A template rendered with the links every page may have (None where this one has none)."""
        values = {"canonical": None, "newer": None, "older": None, "feed_stem": None, "feed_title": None}
        return self.env.get_template(template).render(values | context)

    def _url(self, path: str | None) -> str | None:
        return None if path is None else f"{self.settings.base_url}{path}"


def _environment(layers: Sequence[Templates], settings: Settings) -> Environment:
    """The Jinja environment of these layers of templates: the first layer that has a name gives it, with the values
    and filters every page may use."""
    base = settings.base_url
    # The stylesheet and icon by path, whatever host the page was asked for (the CSP allows only 'self').
    static = f"{urlsplit(base).path}/static"
    icon = site_image_urls(settings).get("site_icon", "")
    env = Environment(
        loader=ChoiceLoader([FunctionLoader(_lookup(layer)) for layer in layers]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        settings=settings,
        text_direction=direction(settings.language),
        played_file=played_file,
        home_url=f"{base}/",
        opml_url=file_url(settings, OPML),
        icon_url=icon or f"{static}/favicon.svg",  # site_icon, or the package's own
        icon_type="" if icon else "image/svg+xml",
        static_url=lambda name: f"{static}/{name}",
        page_url=lambda path: f"{base}{path}",
        term_url=lambda kind, slug: f"{base}{archive_base(kind, slug)}",
        author_url=lambda post: f"{base}{archive_base('author', author_slug(post))}",
        post_url=lambda post: post_url(settings, post),
        feed_url=lambda stem, fmt: feed_url(settings, stem, fmt),
        fediverse_handle=lambda stem: display_handle(settings, stem) if settings.fediverse else "",
        actor_url=lambda stem: actor_url(settings, handle_of(settings, stem)) if settings.fediverse else "",
    )
    env.filters["longdate"] = lambda value: long_date(value, settings)
    env.filters["utc"] = lambda value: whole_second(value).isoformat()
    return env


def _lookup(layer: Templates) -> Callable[[str], tuple[str, str, Callable[[], bool]] | None]:
    """A Jinja FunctionLoader's function over one layer: (text, file, always up to date), or None."""

    def find(name: str) -> tuple[str, str, Callable[[], bool]] | None:
        found = layer.get(name)
        return None if found is None else (found[0], found[1], lambda: True)

    return find


def compiled(env: Environment, name: str) -> None:
    """Compile a template (a syntax error, an unknown filter or test: a TemplateProblem naming its file and line)."""
    try:
        env.get_template(name)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.filename or name, exc.lineno, exc.message or "syntax error") from exc


def render_problem(exc: BaseException, files: set[str]) -> TemplateProblem:
    """Where rendering failed: the deepest frame in one of these template files, its line, and why."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename in files]
    message = str(exc.message or exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
    if not frames:
        return TemplateProblem("theme_dir", 0, message)
    return TemplateProblem(frames[-1].filename, frames[-1].lineno or 0, message)


def long_date(value: datetime, settings: Settings) -> str:
    """A date as the site shows it (pages and mails), in its time zone: "December 22, 2011"."""
    local = value.astimezone(settings.tz)
    return f"{MONTHS[local.month - 1]} {local.day}, {local.year}"


def played_file(post: Post) -> Enclosure | None:
    """The file a post's page plays (its first audio or video), or None: none carried, or its body plays one itself,
    where its author put it."""
    if "<audio" in post.content_html or "<video" in post.content_html:
        return None
    return next((e for e in post.enclosures if e.media_type.partition("/")[0] in ("audio", "video")), None)


def featured_image(post: Post) -> Image | None:
    """The post's featured image (og:image and the JSON-LD image), or None."""
    return post.image


def blog_posting(post: Post, settings: Settings, description: str, image: Image | None = None) -> dict[str, Any]:
    """The schema.org BlogPosting of a post page (search engines read it as JSON-LD)."""
    url = post_url(settings, post)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": whole_second(post.date).isoformat(),
        "dateModified": whole_second(post.updated).isoformat(),
        "author": {
            "@type": "Person",
            "name": post.author.name,
            "url": f"{settings.base_url}{archive_base('author', author_slug(post))}",
        },
        "publisher": {"@type": "Organization", "name": settings.site_title, "url": f"{settings.base_url}/"},
        "description": description,
        "inLanguage": settings.language,
    }
    if post.tags:
        data["keywords"] = [t.name for t in post.tags]
    if image is not None:
        data["image"] = image.url
    return data


def script_json(data: Mapping[str, Any]) -> str:
    """JSON that is safe inside a <script> element: no "<", ">" or "&" (so no "</script>" or "<!--")."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    for character, escaped in _SCRIPT_SAFE:
        text = text.replace(character, escaped)
    return text
