"""Property tests: links from hostile pages canonicalise to one ASCII URL, without raising."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_archive.urls import ascii_uri, canonicalize_url

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
label = st.text(alphabet="abcxyz019-新闻中国ÄßЖ", min_size=1, max_size=8)
component = st.text(alphabet="abc/新闻 %e6%E6?&=#+.~:@!$'()*,;\"<>\\^`{|}\u00e9\x00", max_size=20)


@st.composite
def links(draw: st.DrawFn) -> str:
    host = ".".join(draw(st.lists(label, min_size=1, max_size=3)))
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    return f"{scheme}://{host}{port}/{draw(component)}"


@FAST
@given(st.one_of(links(), st.text(max_size=40)))
def test_never_raises(url: str) -> None:
    canonicalize_url(url, ["ref"])
    assert ascii_uri(url).isascii()


@FAST
@given(links())
def test_canonical_urls_are_ascii_and_stable(url: str) -> None:
    once = canonicalize_url(url)
    if once == url and not url.isascii():
        return  # unparsable (a bad port or host): handed back unchanged, as documented
    assert once.isascii()
    assert canonicalize_url(once) == once
    assert ascii_uri(once) == once
