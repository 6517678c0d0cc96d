"""Portal profiles: bundled ones load, bad ones fail naming the file and the key, nothing is executed."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from portal_archive.profiles import (
    BOILERPLATE_KINDS,
    Profile,
    ProfileError,
    SourceDirectory,
    bundled_profile_names,
    load_bundled_profiles,
    load_profile,
    parse_profile,
)

MINIMAL = """
name = "mini"
base_url = "https://news.example.com"
[links]
article = ['^/a/\\d+$']
"""


def write(tmp_path: Path, text: str, name: str = "portal.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_profiles_load_and_are_frozen() -> None:
    assert {"bendi", "infoq", "wechat"} <= set(bundled_profile_names())
    profiles = {profile.name: profile for profile in load_bundled_profiles()}
    bendi, infoq, wechat = profiles["bendi"], profiles["infoq"], profiles["wechat"]
    assert (bendi.role, infoq.role, wechat.role) == ("aggregator", "publisher", "publisher")
    assert bendi.ingest_id is not None and bendi.ingest_id.search("/wxnews/cls46zk260023lpnyhyekusue")
    assert infoq.js and infoq.js_wait_for == "article .ProseMirror p" and infoq.embedded_state == "nuxt"
    assert infoq.feeds == ("/feed",) and infoq.sitemaps == ("/sitemap.xml",)
    assert infoq.domain == "infoq.cn" and infoq.source_name == "InfoQ"
    assert wechat.selectors.body == "#js_content"
    assert {kind for kind, _ in bendi.selectors.boilerplate} == {
        "nav", "related_links", "recommendations", "share", "attribution", "footer", "disclaimer"
    }  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        bendi.delay = 0  # type: ignore[misc]


def test_minimal_profile_defaults(tmp_path: Path) -> None:
    profile = load_profile(str(write(tmp_path, MINIMAL)))
    assert isinstance(profile, Profile)
    assert profile.domain == "news.example.com"
    assert profile.start_paths == ("/",) and profile.sitemaps == () and profile.feeds == ()
    assert profile.role == "publisher" and not profile.js and profile.delay == 2.0
    assert profile.links.follow == () and profile.links.from_articles
    assert profile.selectors.title == "h1" and profile.selectors.boilerplate == ()
    assert profile.source_file.endswith("portal.toml")


def test_source_names_resolve_through_every_known_profile() -> None:
    directory = SourceDirectory.for_profile(load_profile("bendi"))
    assert directory.resolve("InfoQ") == "infoq.cn"
    assert directory.resolve("infoq 中文站") == "infoq.cn"
    assert directory.resolve("硅谷观察笔记") == "mp.weixin.qq.com"
    assert directory.resolve("www.example.org") == "example.org"
    assert directory.resolve("新民晚报") == ""
    assert directory.resolve("") == ""


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('base_url = "https://x.example"\n[links]\narticle = ["^/a"]', "name"),
        (MINIMAL.replace('"mini"', '"Mini Portal"'), "name"),
        (MINIMAL.replace("https://news.example.com", "ftp://news.example.com"), "base_url"),
        (MINIMAL.replace("https://news.example.com", "https://news.example.com/path"), "base_url"),
        (MINIMAL.replace("[links]", 'role = "mirror"\n[links]'), "role"),
        (MINIMAL.replace("[links]", 'delay = "fast"\n[links]'), "delay"),
        (MINIMAL.replace("[links]", "delay = -1\n[links]"), "delay"),
        (MINIMAL.replace("[links]", "js = 1\n[links]"), "js"),
        (MINIMAL.replace("[links]", "js = true\n[links]"), "js_wait_for"),
        (MINIMAL.replace("[links]", 'start_paths = ["news"]\n[links]'), "start_paths[0]"),
        (MINIMAL.replace("[links]", 'ingest_id = "/wxnews/c[0-9a-z]{24}"\n[links]'), "ingest_id"),
        (MINIMAL.replace("[links]", 'embedded_state = "next"\n[links]'), "embedded_state"),
        (MINIMAL.replace("[links]", 'start_url = "/"\n[links]'), "start_url"),
        ('name = "mini"\nbase_url = "https://x.example"\n[links]\nfollow = []', "links.article"),
        (MINIMAL.replace("^/a/\\d+$", "^/a/(unclosed"), "links.article[0]"),
        (MINIMAL + 'pagination = ["a[rel=next"]\n', "links.pagination[0]"),
        (MINIMAL + "from_articles = 'yes'\n", "links.from_articles"),
        (MINIMAL + "followed = []\n", "links.followed"),
        (MINIMAL + '[selectors]\nbody = "div..x"\n', "selectors.body"),
        (MINIMAL + '[selectors]\nauthor = ".a"\n', "selectors.author"),
        (MINIMAL + '[selectors.boilerplate]\nads = [".ad"]\n', "selectors.boilerplate.ads"),
        (MINIMAL + '[selectors.boilerplate]\nfooter = ["footer >"]\n', "selectors.boilerplate.footer[0]"),
        (MINIMAL + "[selectors.boilerplate]\nfooter = [1]\n", "selectors.boilerplate.footer"),
        (MINIMAL + '[sources]\naliases = { "InfoQ" = "https://infoq.cn/" }\n', "sources.aliases.InfoQ"),
        (MINIMAL + "[sources]\nname = 3\n", "sources.name"),
        (MINIMAL + "[sources]\nalias = {}\n", "sources.alias"),
        (MINIMAL.replace("[links]", 'selectors = "h1"\n[links]'), "selectors"),
        (MINIMAL + '[api]\ndetail_body = \'{"id": "{id}"}\'\nid = "^/a/(\\\\d+)$"\n', "api.detail"),
        (
            MINIMAL + '[api]\ndetail = "api/detail"\ndetail_body = \'{"id": "{id}"}\'\nid = "^/a/(\\\\d+)$"\n',
            "api.detail",
        ),
        (MINIMAL + '[api]\ndetail = "/api"\ndetail_body = \'{"id": "{id}"}\'\nid = "^/a/\\\\d+$"\n', "api.id"),
        (MINIMAL + '[api]\ndetail = "/api"\ndetail_body = \'{"id": 1}\'\nid = "^/a/(\\\\d+)$"\n', "api.detail_body"),
        (MINIMAL + '[api]\ndetail = "/api"\ndetail_body = \'{"id": {id}\'\nid = "^/a/(\\\\d+)$"\n', "api.detail_body"),
        (MINIMAL + '[api]\ndetail = "/api"\nlist = "/x"\n', "api.list"),
    ],
)
def test_bad_profiles_name_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert caught.value.key == key, str(caught.value)
    assert str(path) in str(caught.value) and f": {key}:" in str(caught.value)


def test_unreadable_files_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(str(write(tmp_path, "name = 'x\n")))
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(str(tmp_path / "missing.toml"))
    with pytest.raises(ProfileError, match=r"no such bundled profile \(bundled: bendi, infoq"):
        load_profile("nosuchportal")
    with pytest.raises(ProfileError, match="no profile given"):
        load_profile("  ")
    broken = tmp_path / "latin1.toml"
    broken.write_bytes(b"name = '\xe9'\n")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profile(str(broken))


def test_profiles_are_data_only(tmp_path: Path) -> None:
    """Strings that look like code or import paths stay strings; nothing is evaluated or imported."""
    marker = tmp_path / "executed"
    text = MINIMAL.replace('"mini"', '"evil"') + (
        f"[sources]\nname = \"__import__('pathlib').Path({str(marker)!r}).touch()\"\n"
        '[selectors]\ntitle = "h1"\nbody = "os.system"\n'
    )
    profile = load_profile(str(write(tmp_path, text)))
    assert profile.source_name.startswith("__import__")
    assert not marker.exists()


def test_parse_profile_takes_parsed_toml() -> None:
    profile = parse_profile(tomllib.loads(MINIMAL), "inline")
    assert profile.source_file == "inline" and profile.links.article[0].search("/a/12")
    assert "attribution" in BOILERPLATE_KINDS


def test_the_article_api_fills_in_the_id_as_a_json_string(tmp_path: Path) -> None:
    text = MINIMAL + '[api]\ndetail = "/api/detail"\ndetail_body = \'{"uuid": "{id}", "v": 1}\'\nid = "^/a/([^/]+)$"\n'
    api = load_profile(str(write(tmp_path, text))).detail_api
    assert api is not None and api.path == "/api/detail"
    assert api.request_body("/a/123") == b'{"uuid": "123", "v": 1}'
    assert api.request_body('/a/x"y\\z') == b'{"uuid": "x\\"y\\\\z", "v": 1}'  # quoted, never breaking the JSON
    assert api.request_body("/b/123") is None
    assert load_profile(str(write(tmp_path, MINIMAL, "plain.toml"))).detail_api is None
