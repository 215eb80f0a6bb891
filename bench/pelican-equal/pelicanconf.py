# Pelican writing the feeds Syndicator writes, so that the build times compare equal work: Atom and RSS
# with full content, the 20 newest posts, for the site and every category, tag and author. Pelican has no
# JSON Feed and no RFC 5005 archive pages; it allows one category a post, so the shared generator's
# corpus gives a post's categories as tags too (its tag feeds are the per-category feeds). No page is
# written: every *_SAVE_AS is empty and there are no direct templates.
#
#   pelican CORPUS/content -s bench/pelican-equal/pelicanconf.py -o OUT      (bench/peers.py runs it)
import os

AUTHOR = "Syndicator benchmark"
SITENAME = "Syndicator benchmark"
SITEURL = "http://127.0.0.1:8000"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
FEED_DOMAIN = SITEURL
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False
FEED_ALL_ATOM = "feeds/all.atom"
FEED_ALL_RSS = "feeds/all.rss"
CATEGORY_FEED_ATOM = "feeds/category/{slug}.atom"
CATEGORY_FEED_RSS = "feeds/category/{slug}.rss"
TAG_FEED_ATOM = "feeds/tag/{slug}.atom"
TAG_FEED_RSS = "feeds/tag/{slug}.rss"
AUTHOR_FEED_ATOM = "feeds/author/{slug}.atom"
AUTHOR_FEED_RSS = "feeds/author/{slug}.rss"
TRANSLATION_FEED_ATOM = None
ARTICLE_URL = "posts/{slug}/"
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""
DIRECT_TEMPLATES: list[str] = []
STATIC_PATHS: list[str] = []
THEME_STATIC_PATHS: list[str] = []
# The content cache (a one-post rebuild reads the other posts from it) where bench/peers.py asks for it.
CACHE_CONTENT = os.environ.get("BENCH_PELICAN_CACHE") is not None
LOAD_CONTENT_CACHE = CACHE_CONTENT
CACHE_PATH = os.environ.get("BENCH_PELICAN_CACHE") or "cache"
