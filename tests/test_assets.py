"""Which file a relative URL in a post names, and the URL a link to a file gets (core/assets.py)."""

from __future__ import annotations

import pytest

from syndicator.core.assets import FileLinks
from syndicator.core.assets import local_path
from syndicator.core.assets import names_a_file

MEDIA_URL = "https://example.org/feeds/media/"


class TestPaths:
    @pytest.mark.parametrize(
        ("value", "folder", "path"),
        [
            ("photo.jpg", "2024-05-04-trip", "2024-05-04-trip/photo.jpg"),
            ("../images/a%20b.png?v=2#x", "2024", "images/a b.png"),
            ("./x.png", "", "x.png"),
            ("../../x.png", "a", None),  # leaves posts_dir
            ("https://cdn.example.net/x.png", "", None),
            ("//cdn.example.net/x.png", "", None),
            ("/images/x.png", "", None),
            ("#top", "", None),
            ("?page=2", "", None),
            ("  ", "", None),
        ],
    )
    def test_a_relative_url_names_a_file_from_the_post_file(self, value: str, folder: str, path: str | None) -> None:
        """Resolved against the post file's folder, inside posts_dir only; URLs with a scheme, host or root are not."""
        assert local_path(value, folder) == path

    @pytest.mark.parametrize(
        ("value", "file"),
        [("notes.pdf", True), ("a/b.MP3?x=1", True), ("../other/", False), ("page.html", False), ("c.md", False)],
    )
    def test_which_links_name_files(self, value: str, file: bool) -> None:
        """A link names a file when its last segment has an extension that is not a page's."""
        assert names_a_file(value) is file

    def test_a_file_link_keeps_its_query_and_fragment(self) -> None:
        """``episode.mp3#t=30`` keeps its media fragment on the asset's URL, and is noted as a reference."""
        links = FileLinks("ep", f"{MEDIA_URL}")
        assert links("src", "episode.mp3#t=30") == f"{MEDIA_URL}ep/episode.mp3#t=30"
        assert links.refs == [("ep/episode.mp3", "episode.mp3#t=30")]
