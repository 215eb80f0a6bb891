"""Embedded URLs (YouTube, Vimeo, X...) as links naming their provider: the sanitizer drops iframes.

No I/O.
"""

from __future__ import annotations

import html

from syndicator.core.urls import split_url

# host (or its parent domain) -> (provider name, what a reader does there)
PROVIDERS: dict[str, tuple[str, str]] = {
    "youtube.com": ("YouTube", "Watch"),
    "youtu.be": ("YouTube", "Watch"),
    "vimeo.com": ("Vimeo", "Watch"),
    "dailymotion.com": ("Dailymotion", "Watch"),
    "ted.com": ("TED", "Watch"),
    "tiktok.com": ("TikTok", "Watch"),
    "wordpress.tv": ("WordPress.tv", "Watch"),
    "videopress.com": ("VideoPress", "Watch"),
    "twitch.tv": ("Twitch", "Watch"),
    "soundcloud.com": ("SoundCloud", "Listen"),
    "spotify.com": ("Spotify", "Listen"),
    "mixcloud.com": ("Mixcloud", "Listen"),
    "twitter.com": ("X", "View"),
    "x.com": ("X", "View"),
    "instagram.com": ("Instagram", "View"),
    "facebook.com": ("Facebook", "View"),
    "threads.net": ("Threads", "View"),
    "bsky.app": ("Bluesky", "View"),
    "tumblr.com": ("Tumblr", "View"),
    "reddit.com": ("Reddit", "View"),
    "flickr.com": ("Flickr", "View"),
    "imgur.com": ("Imgur", "View"),
    "slideshare.net": ("SlideShare", "View"),
    "speakerdeck.com": ("Speaker Deck", "View"),
    "scribd.com": ("Scribd", "View"),
    "pinterest.com": ("Pinterest", "View"),
}
SHORTCODE_URL = {
    "youtube": "https://www.youtube.com/watch?v={}",
    "vimeo": "https://vimeo.com/{}",
    "dailymotion": "https://www.dailymotion.com/video/{}",
}


def provider_of(url: str) -> tuple[str, str] | None:
    """The (name, verb) of a known embed provider for a URL, e.g. ("YouTube", "Watch")."""
    host = (split_url(url).hostname or "").lower()
    while host:
        if host in PROVIDERS:
            return PROVIDERS[host]
        host = host.partition(".")[2]
    return None


def embed_link(url: str, provider_slug: str = "") -> tuple[str, bool]:
    """A paragraph linking to an embedded URL, naming its provider; whether the provider is known."""
    url = html.unescape(url.strip())
    known = provider_of(url)
    if known is None and provider_slug:
        known = (provider_slug.replace("-", " ").title(), "View")
    text = f"{known[1]} on {known[0]}" if known else url
    return f'<p><a href="{html.escape(url)}">{html.escape(text)}</a></p>', known is not None
