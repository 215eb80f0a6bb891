"""Podcasts (SPEC "Podcasts"): a category's RSS as a podcast feed, its episodes, its guid, and its warnings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from support import podcastfiles
from support.factories import NOW
from support.feedcheck import check_rss
from support.mediafiles import write_png
from support.podcastsite import ITUNES
from support.podcastsite import MEDIA
from support.podcastsite import PODCAST
from support.podcastsite import SHOW
from support.podcastsite import SPEC_GUID_NAMESPACE
from support.podcastsite import episode
from support.podcastsite import site_settings
from support.podcastsite import write_radio
from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import load_settings
from syndicator.core.episode import parse_duration
from syndicator.core.podcasts import podcast_guid
from syndicator.problem import LoadProblem
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app


@pytest.fixture
def radio(tmp_path: Path) -> Settings:
    """The show and three episodes: LAME's 65-second MP3, FFmpeg's 3-second M4A, a remote MP3 of a given length."""
    return write_radio(tmp_path)


def built(settings: Settings) -> Builder:
    builder = Builder(settings)
    builder.reload(NOW)
    return builder


def served(builder: Builder, path: str) -> bytes:
    assert builder.snapshot is not None
    return builder.snapshot.files[path].body


def problems_of(builder: Builder) -> tuple[LoadProblem, ...]:
    assert builder.snapshot is not None
    return builder.snapshot.report.problems


def channel_of(body: bytes) -> etree._Element:
    channel = check_rss(body).find("channel")
    assert channel is not None
    return channel


def items_by_title(channel: etree._Element) -> dict[str, etree._Element]:
    return {item.findtext("title") or "": item for item in channel.findall("item")}


def test_podcast_guid_is_the_uuidv5_the_namespace_defines() -> None:
    """podcast:guid is the UUIDv5 of the feed URL without scheme and trailing slashes: the spec's own examples."""
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("https://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_the_channel_carries_the_itunes_and_podcast_tags(radio: Settings) -> None:
    """The show's RSS channel: itunes:image, category, explicit, author, owner, type; podcast:guid, locked, funding."""
    channel = channel_of(served(built(radio), "/feeds/category/radio-pamir.rss"))
    assert channel.findtext("title") == "Radio Pamir"
    assert channel.findtext("language") == "en-gb"
    assert channel.findtext("copyright") == "© 2024 Zoë Lee"
    assert channel.findtext(ITUNES + "author") == "Zoë Lee"
    owner = channel.find(ITUNES + "owner")
    assert owner is not None and owner.findtext(ITUNES + "email") == "zoe@example.org"
    assert owner.findtext(ITUNES + "name") == "Zoë Lee"
    image = channel.find(ITUNES + "image")
    assert image is not None and image.get("href") == f"{MEDIA}cover.png"
    categories = [(c.get("text"), [s.get("text") for s in c]) for c in channel.findall(ITUNES + "category")]
    assert categories == [("Society & Culture", ["Places & Travel"]), ("History", [])]
    assert channel.findtext(ITUNES + "explicit") == "true"
    assert channel.findtext(ITUNES + "type") == "serial"
    feed = "example.org/feeds/category/radio-pamir.rss"
    assert channel.findtext(PODCAST + "guid") == str(uuid.uuid5(SPEC_GUID_NAMESPACE, feed))
    locked = channel.find(PODCAST + "locked")
    assert locked is not None and locked.text == "yes" and locked.get("owner") == "zoe@example.org"
    funding = [(f.get("url"), f.text) for f in channel.findall(PODCAST + "funding")]
    assert funding == [
        ("https://example.org/support", "Support Radio Pamir"),
        ("https://example.org/members", "Become a member"),
    ]


def test_each_episode_carries_its_tags_and_its_audios_duration(radio: Settings) -> None:
    """Items: the audio enclosure, itunes:duration read from the file (or as written), numbers, type, explicit,
    artwork, podcast:transcript and podcast:chapters with their types, podcast:season and podcast:episode."""
    items = items_by_title(channel_of(served(built(radio), "/feeds/category/radio-pamir.rss")))
    assert list(items) == ["Ishkashim", "Murghab", "Khorog"]
    khorog, murghab, ishkashim = items["Khorog"], items["Murghab"], items["Ishkashim"]
    mp3 = radio.posts_dir / "khorog" / "khorog.mp3"
    enclosure = khorog.find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": f"{MEDIA}khorog/khorog.mp3",
        "length": str(mp3.stat().st_size),
        "type": "audio/mpeg",
    }
    assert [i.findtext(ITUNES + "duration") for i in (khorog, murghab, ishkashim)] == ["65", "3", "3723"]
    assert [i.findtext(ITUNES + "episode") for i in (khorog, murghab, ishkashim)] == ["1", "2", "3"]
    assert [i.findtext(ITUNES + "season") for i in (khorog, murghab, ishkashim)] == ["1", "1", None]
    assert [i.findtext(ITUNES + "episodeType") for i in (khorog, murghab, ishkashim)] == ["full", "bonus", None]
    assert [i.findtext(ITUNES + "explicit") for i in (khorog, murghab, ishkashim)] == ["false", None, None]
    art = khorog.find(ITUNES + "image")
    assert art is not None and art.get("href") == f"{MEDIA}khorog/art.png"
    transcripts = [i.xpath("p:transcript/@type", namespaces={"p": PODCAST[1:-1]}) for i in (khorog, murghab)]
    assert transcripts == [["text/vtt"], ["application/x-subrip"]]
    transcript = khorog.find(PODCAST + "transcript")
    assert transcript is not None and transcript.get("url") == f"{MEDIA}khorog/khorog.vtt"
    chapters = khorog.find(PODCAST + "chapters")
    assert chapters is not None
    assert chapters.attrib == {"url": f"{MEDIA}khorog/khorog.chapters.json", "type": "application/json+chapters"}
    assert khorog.findtext(PODCAST + "season") == "1" and khorog.findtext(PODCAST + "episode") == "1"
    assert murghab.find("enclosure").get("type") == "audio/mp4"  # type: ignore[union-attr]


def test_the_podcast_feed_lists_every_episode_and_its_archives_still_exist(tmp_path: Path) -> None:
    """feed_size does not cut a podcast: all five episodes are in its feed; RFC 5005 archive pages are still made."""
    settings = site_settings(
        tmp_path, SHOW + '\n[podcasts.all]\ntitle = "Everything"\n', feed_size=2, archive_page_size=2
    )
    for n in range(5):
        enclosures = f"[{{url: 'https://cdn.example.net/{n}.mp3', type: audio/mpeg, length: 1000}}]"
        episode(settings.posts_dir, f"ep{n}", f"2024-05-0{n + 1}T09:00:00Z", enclosures=enclosures, tags="[Travel]")
    builder = built(settings)
    for path in ("/feeds/category/radio-pamir.rss", "/feeds/all.rss"):
        assert len(channel_of(served(builder, path)).findall("item")) == 5
    assert (
        len(
            etree.fromstring(served(builder, "/feeds/category/radio-pamir.atom")).findall(
                "{http://www.w3.org/2005/Atom}entry"
            )
        )
        == 5
    )
    assert len(channel_of(served(builder, "/feeds/tag/travel.rss")).findall("item")) == 2  # no podcast: cut
    for page in (1, 2, 3):
        assert f"/feeds/category/radio-pamir/archive/{page}.atom" in builder.snapshot.files  # type: ignore[union-attr]


def test_only_a_podcasts_rss_carries_the_podcast_namespaces(radio: Settings) -> None:
    """The other feeds of the same posts (site-wide, tag, author, the show's Atom and JSON) stay as they were."""
    builder = built(radio)
    assert builder.snapshot is not None
    for path, served_file in builder.snapshot.files.items():
        if path.endswith((".rss", ".atom")) and path != "/feeds/category/radio-pamir.rss":
            assert b"itunes" not in served_file.body and b"podcastindex" not in served_file.body, path


def test_the_whole_site_as_a_podcast(tmp_path: Path) -> None:
    """[podcasts.all] makes the site-wide RSS the podcast; its guid is that feed's."""
    settings = site_settings(tmp_path, '[podcasts.all]\ncategories = ["News"]\n')
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 2)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]")
    channel = channel_of(served(built(settings), "/feeds/all.rss"))
    assert channel.findtext(PODCAST + "guid") == str(uuid.uuid5(SPEC_GUID_NAMESPACE, "example.org/feeds/all.rss"))
    assert channel.findtext("item/" + ITUNES + "duration") == "2"
    assert channel.findtext(ITUNES + "explicit") == "false"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(3723, 3723), ("3723", 3723), ("1:02:03", 3723), ("62:03", 3723), ("01:02:03.6", 3724), (59.4, 59), ("0", 0)],
)
def test_a_duration_is_seconds_or_a_clock(value: object, seconds: int) -> None:
    """duration: seconds, MM:SS or HH:MM:SS."""
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "1:75", "1h", "-3", -3, True, "", "1:2:3:4", None])
def test_a_duration_that_is_not_a_time_is_none(value: object) -> None:
    """Anything else is no duration (the post is told, and the audio's own length is used)."""
    assert parse_duration(value) is None


def test_bad_episode_fields_are_warnings_on_their_lines_and_the_rest_is_published(radio: Settings) -> None:
    """An episode without audio, a duration that is no time, a wrong number, type, explicit or transcript: each a
    warning with its file and line in /healthz; the episode keeps the rest, the audio-less one stays in Atom."""
    posts = radio.posts_dir
    episode(posts, "talk", "2024-06-01T09:00:00Z", enclosures="[]")
    bad = episode(
        posts,
        "sarez",
        "2024-06-02T09:00:00Z",
        enclosures="[../khorog/khorog.mp3]",
        duration="soon",
        episode="two",
        episode_type="teaser",
        explicit="maybe",
        transcript="notes.txt",
    )
    builder = built(radio)
    lines = bad.read_text().splitlines()
    health = create_app(radio, builder).test_client().get("/healthz").get_json()
    found = {(p["path"].rsplit("posts/", 1)[-1], p["line"]): p["message"] for p in health["problems"]}
    assert health["status"] == "degraded"
    for field in ("duration", "episode", "episode_type", "explicit", "transcript"):
        line = next(n for n, text in enumerate(lines, 1) if text.startswith(f"{field}:"))
        assert field in found[("sarez/index.md", line)]
    assert "without audio" in found[("talk/index.md", 5)]  # the line of its enclosures
    items = items_by_title(channel_of(served(builder, "/feeds/category/radio-pamir.rss")))
    assert "Talk" not in items
    sarez = items["Sarez"]
    assert sarez.findtext(ITUNES + "duration") == "65"  # the audio file's own
    assert sarez.find(ITUNES + "episode") is None and sarez.find(PODCAST + "transcript") is None
    atom = served(builder, "/feeds/category/radio-pamir.atom")
    assert b"<title>Talk</title>" in atom


def test_unknown_categories_and_wrong_artwork_are_warnings_naming_the_config_line(tmp_path: Path) -> None:
    """A category Apple does not list is left out; artwork that is no JPEG/PNG is left out, a wide one warned of."""
    tables = (
        '[podcasts.radio-pamir]\nimage = "wide.png"\n'
        'categories = ["History", "Knitting", "News > Knitting"]\n\n'
        '[podcasts.all]\nimage = "cover.gif"\n'
    )
    settings = site_settings(tmp_path, tables)
    write_png(settings.posts_dir / "wide.png", 1600, 900)
    (settings.posts_dir / "cover.gif").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 1)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]")
    builder = built(settings)
    config = str(tmp_path / "syndicator.toml")
    text = (tmp_path / "syndicator.toml").read_text().splitlines()
    line = {key: [n for n, t in enumerate(text, 1) if t.startswith(key)] for key in ("categories", "image")}
    problems = [(p.path, p.line, p.message) for p in problems_of(builder) if p.path == config]
    assert sorted((n, m) for _p, n, m in problems if "Knitting" in m) == sorted(
        [
            (
                line["categories"][0],
                "podcasts.radio-pamir.categories: 'Knitting' is not an Apple Podcasts category "
                "(https://podcasters.apple.com/support/1691-apple-podcasts-categories); left out",
            ),
            (
                line["categories"][0],
                "podcasts.radio-pamir.categories: 'Knitting' is not a subcategory of 'News' in Apple "
                "Podcasts (https://podcasters.apple.com/support/1691-apple-podcasts-categories); left out",
            ),
        ]
    )
    assert any(n == line["image"][0] and "1600x900" in m for _p, n, m in problems)
    assert any(n == line["image"][1] and "cover.gif" in m and "JPEG or PNG" in m for _p, n, m in problems)
    category = channel_of(served(builder, "/feeds/category/radio-pamir.rss"))
    assert [c.get("text") for c in category.findall(ITUNES + "category")] == ["History"]
    assert category.find(ITUNES + "image").get("href") == f"{MEDIA}wide.png"  # type: ignore[union-attr]
    assert channel_of(served(builder, "/feeds/all.rss")).find(ITUNES + "image") is None


# two shows of one guid (the second in capitals, the same UUID)
TWICE = '[podcasts.a]\nguid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"\n'
TWICE += '[podcasts.b]\nguid = "917393E3-1B1E-5CEF-ACE4-EDAA54E1F810"\n'


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[podcasts.x]\ntitel = "X"\n', "unknown key 'titel'"),
        ("[podcasts.x]\nexplicit = 1\n", "podcasts.x.explicit: must be true or false"),
        ('[podcasts.x]\ntype = "weekly"\n', "podcasts.x.type: must be one of episodic, serial"),
        ('[podcasts.x]\nfunding = {url = "ftp://example.org"}\n', "podcasts.x.funding.url"),
        ('[podcasts.x]\nguid = "not-a-uuid"\n', "podcasts.x.guid"),
        ('[podcasts.x]\nimage = "/etc/cover.png"\n', "podcasts.x.image"),
        ("[podcasts.x]\ncategories = [1]\n", "podcasts.x.categories"),
        ('podcasts = "yes"\n', "podcasts must be a table"),
        ('[podcasts.x]\nlanguage = "en_US"\n', "podcasts.x.language: 'en_US' is not a language tag"),
        (TWICE, "podcasts.b.guid: '917393e3-1b1e-5cef-ace4-edaa54e1f810' is podcasts.a's guid too"),
    ],
)
def test_a_podcast_table_that_cannot_be_read_is_an_error_naming_the_key(tmp_path: Path, table: str, named: str) -> None:
    """Keys and values the tables cannot hold are errors naming them (as every setting's are)."""
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        site_settings(tmp_path, table)


def test_an_owner_email_that_is_no_address_is_a_warning_on_its_line(tmp_path: Path) -> None:
    """``owner_email = "not-an-email"``: the platforms' mail to the owner goes nowhere; a warning on the config line."""
    settings = site_settings(tmp_path, '[podcasts.radio-pamir]\nowner_email = "not-an-email"\n')
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 1)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]")
    config = str(tmp_path / "syndicator.toml")
    line = (tmp_path / "syndicator.toml").read_text().splitlines().index('owner_email = "not-an-email"') + 1
    said = [(p.line, p.message) for p in problems_of(built(settings)) if p.path == config]
    assert said == [
        (line, "podcasts.radio-pamir.owner_email: 'not-an-email' is not an email address (the platforms write to it)")
    ], said


def test_an_edited_show_rebuilds_its_feed(radio: Settings) -> None:
    """A change to the [podcasts.*] table reaches the feed on the next build (the settings are in the fingerprint)."""
    built(radio)
    text = (radio.posts_dir.parent / "syndicator.toml").read_text().replace('"Radio Pamir"', '"Radio Pamir Live"')
    (radio.posts_dir.parent / "syndicator.toml").write_text(text)
    again = load_settings(radio.posts_dir.parent / "syndicator.toml", {})
    builder = Builder(again)
    builder.reload(NOW + timedelta(minutes=1))
    assert channel_of(served(builder, "/feeds/category/radio-pamir.rss")).findtext("title") == "Radio Pamir Live"
    assert (radio.output_dir / "category" / "radio-pamir.rss").read_bytes() == served(
        builder, "/feeds/category/radio-pamir.rss"
    )


def test_the_podcast_feed_is_the_same_bytes_when_nothing_changed(radio: Settings) -> None:
    """Rebuilding unchanged posts and config gives byte-identical podcast feeds."""
    first = served(built(radio), "/feeds/category/radio-pamir.rss")
    fresh = Builder(radio)
    fresh.reload(NOW + timedelta(hours=1))
    assert served(fresh, "/feeds/category/radio-pamir.rss") == first


def test_a_missing_transcript_is_a_warning_and_left_out(radio: Settings) -> None:
    """A transcript or chapters file that does not exist is reported (file, line, path) and not linked."""
    (radio.posts_dir / "khorog" / "khorog.vtt").unlink()
    builder = built(radio)
    assert any("khorog/khorog.vtt" in p.message for p in problems_of(builder))
    item = items_by_title(channel_of(served(builder, "/feeds/category/radio-pamir.rss")))["Khorog"]
    assert item.find(PODCAST + "transcript") is None and item.find(PODCAST + "chapters") is not None


def test_a_featured_image_apple_would_refuse_is_not_the_episodes_artwork(tmp_path: Path) -> None:
    """A wide featured image stays the post's (Media RSS in the other feeds) but is no itunes:image: the show's is."""
    settings = site_settings(tmp_path)
    write_png(settings.posts_dir / "a" / "wide.png", 1600, 900)
    podcastfiles.lame_mp3(settings.posts_dir / "a" / "a.mp3", 1)
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]", image="wide.png")
    builder = built(settings)
    item = channel_of(served(builder, "/feeds/category/radio-pamir.rss")).find("item")
    assert item is not None and item.find(ITUNES + "image") is None
    assert b"media:content" not in served(builder, "/feeds/category/radio-pamir.rss")  # podcast apps: no file
    assert f'url="{MEDIA}a/wide.png"'.encode() in served(builder, "/feeds/all.rss")


def test_an_unreadable_audio_file_gives_no_duration_and_no_failure(tmp_path: Path) -> None:
    """Bytes that are no audio under an .mp3 name: the episode is published without itunes:duration, and a warning on
    the line naming the file asks for ``duration:``, which silences it."""
    settings = site_settings(tmp_path)
    (settings.posts_dir / "a").mkdir()
    (settings.posts_dir / "a" / "a.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x0fnot really audio")
    episode(settings.posts_dir, "a", "2024-05-04T09:00:00Z", enclosures="[a.mp3]")
    builder = built(settings)
    item = channel_of(served(builder, "/feeds/category/radio-pamir.rss")).find("item")
    assert item is not None and item.find("enclosure") is not None and item.find(ITUNES + "duration") is None
    said = [(p.line, p.message) for p in problems_of(builder) if p.path.endswith("index.md")]
    assert len(said) == 1 and said[0][0] == 5 and "how long a/a.mp3 is" in said[0][1], said  # the enclosures line
    (settings.posts_dir / "a" / "index.md").write_text(
        (settings.posts_dir / "a" / "index.md").read_text().replace("enclosures:", "duration: 61\nenclosures:")
    )
    builder.reload(NOW)
    assert not [p for p in problems_of(builder) if p.path.endswith("index.md")]  # a duration said is enough
    assert "duration_in_seconds" not in served(builder, "/feeds/category/radio-pamir.json").decode()
