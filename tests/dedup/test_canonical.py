"""Clusters and their original: each kind of evidence decides in its turn, and members get roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_archive.dedup import CanonicalPolicy, Member, Similarity, UnionFind, choose_canonical, connected_components
from portal_archive.dedup.canonical import _normalized_by_urlsplit, domain_of, normalize_url

POLICY = CanonicalPolicy(source_domains={"城市晚报": "citydaily.example.cn", "InfoQ": "infoq.cn"})


def member(member_id: int, url: str, **fields: object) -> Member:
    defaults: dict[str, object] = {"chars": 3000, "shingles": 2900}
    return Member(id=member_id, url=url, **{**defaults, **fields})  # type: ignore[arg-type]


def similar(jaccard: float = 0.9, containment: float = 0.95) -> Similarity:
    return Similarity(jaccard=jaccard, containment=containment, intersection=0.0, exact=False)


def always(first: Member, second: Member) -> Similarity:
    return similar()


def roles(decision_members: object) -> dict[int, str]:
    return {verdict.id: verdict.role for verdict in decision_members}  # type: ignore[attr-defined]


def test_attribution_names_the_original_even_against_earlier_times() -> None:
    original = member(1, "https://www.infoq.cn/article/abc", published_at="2024-04-02T08:00:00+00:00")
    copy = member(2, "https://bendi.news/wxnews/c1", attributions=("InfoQ",), published_at="2024-04-01T08:00:00+00:00")
    decision = choose_canonical([copy, original], always, POLICY)
    assert decision.canonical.id == 1
    assert decision.decided_by == "attribution"
    assert "names 'InfoQ' as its source; infoq.cn holds #1" in decision.evidence[0]
    assert roles(decision.members) == {1: "original", 2: "copy"}


def test_attribution_evidence_is_said_once_per_claim() -> None:
    """Two spellings of one outlet are one claim; an original naming its own site is no evidence
    of anything but itself, said only when nothing else is."""
    original = member(1, "https://www.infoq.cn/article/abc", attributions=("InfoQ", "infoq.cn"))
    copy = member(2, "https://bendi.news/wxnews/c1", attributions=("InfoQ", "infoq.cn"))
    other = member(3, "https://other.example/1", published_at="2024-04-01T08:00:00+00:00")
    decision = choose_canonical([copy, original, other], always, POLICY)
    assert decision.evidence[0] == (
        "attribution: #2 (bendi.news) names 'InfoQ' and 'infoq.cn' as its source; infoq.cn holds #1 (infoq.cn)"
    )
    alone = choose_canonical([original, other], always, POLICY)
    assert alone.evidence[0] == (
        "attribution: #1 (infoq.cn) names 'InfoQ' and 'infoq.cn' as its source; infoq.cn holds #1 (infoq.cn)"
    )


def test_original_title_points_at_the_member_with_that_title() -> None:
    first = member(1, "https://a.example/1", title="图书馆夜间开放试行三个月")
    second = member(
        2, "https://b.example/2", title="刚刚！图书馆要开到半夜了", original_titles=("图书馆夜间开放，试行三个月",)
    )
    decision = choose_canonical([second, first], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (1, "attribution")


def test_unarchived_source_is_recorded_and_later_evidence_decides() -> None:
    first = member(1, "https://sohu.com/a/1", attributions=("城市晚报",), published_at="2024-04-01T09:00:00+00:00")
    second = member(2, "https://bendi.news/wxnews/c2", attributions=("城市晚报",), published_at="2024-04-01T08:00:00Z")
    decision = choose_canonical([first, second], always, POLICY)
    assert decision.canonical.id == 2
    assert decision.decided_by == "earliest publication"
    assert any(e.startswith("unarchived source") and "citydaily.example.cn" in e for e in decision.evidence)


def test_canonical_link_to_another_member() -> None:
    original = member(1, "https://a.example/story/1")
    copy = member(2, "https://b.example/x", canonical_url="http://www.a.example/story/1/")
    decision = choose_canonical([copy, original], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (1, "canonical link")


def test_read_original_link_to_another_member() -> None:
    original = member(1, "https://mp.weixin.qq.com/s/abc")
    copy = member(2, "https://bendi.news/wxnews/c3", read_original_urls=("https://mp.weixin.qq.com/s/abc",))
    decision = choose_canonical([copy, original], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (1, "read original")


def test_earliest_time_with_tolerance_and_missing_times_lose() -> None:
    early = member(1, "https://a.example/1", published_at="2024-04-01T08:00:00+00:00")
    close = member(2, "https://b.example/2", published_at="2024-04-01T16:03:00+08:00")  # 3 minutes later in UTC
    late = member(3, "https://c.example/3", published_at="2024-04-01T09:00:00+00:00")
    unknown = member(4, "https://d.example/4")
    decision = choose_canonical([late, unknown, close, early], always, POLICY)
    assert decision.evidence[0].startswith("earliest publication: published 2024-04-01T08:00:00+00:00")
    assert "#1" in decision.evidence[0] and "#2" in decision.evidence[0] and "#3" not in decision.evidence[0]
    assert decision.canonical.id == 1  # the tie within tolerance falls through to the tie-break
    strict = CanonicalPolicy(time_tolerance=timedelta(0))
    assert choose_canonical([close, early], always, strict).decided_by == "earliest publication"


def test_containment_direction_excerpt_loses_then_added_lines_lose() -> None:
    full = member(1, "https://a.example/1", shingles=2900, chars=3000)
    excerpt = member(2, "https://b.example/2", shingles=1400, chars=1450)

    def contained(first: Member, second: Member) -> Similarity:
        return similar(0.48, 0.98)

    decision = choose_canonical([excerpt, full], contained, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (1, "containment direction")
    assert roles(decision.members) == {1: "original", 2: "excerpt"}

    clean = member(3, "https://a.example/3")
    marked = member(4, "https://b.example/4", copy_markers=2)
    decision = choose_canonical([marked, clean], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (3, "containment direction")


def test_publisher_beats_unlisted_site_beats_aggregator() -> None:
    aggregator = member(1, "https://bendi.news/wxnews/c4")
    unlisted = member(2, "https://blog.example.org/p/1")
    publisher = member(3, "https://www.36kr.com/p/123")
    decision = choose_canonical([aggregator, unlisted, publisher], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (3, "publisher ranking")
    decision = choose_canonical([aggregator, unlisted], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (2, "publisher ranking")


def test_tie_break_byline_then_length_then_first_indexed() -> None:
    plain = member(1, "https://a.example/1")
    signed = member(2, "https://b.example/2", byline="作者：张三")
    assert choose_canonical([plain, signed], always, POLICY).canonical.id == 2
    longer = member(3, "https://c.example/3", chars=3100)
    assert choose_canonical([plain, longer], always, POLICY).canonical.id == 3
    twin = member(4, "https://d.example/4")
    decision = choose_canonical([twin, plain], always, POLICY)
    assert (decision.canonical.id, decision.decided_by) == (1, "tie-break")


def test_members_are_checked_against_the_original_itself() -> None:
    original = member(1, "https://www.infoq.cn/article/x")
    copy = member(2, "https://bendi.news/wxnews/c5", attributions=("InfoQ",), copy_markers=1)
    chained = member(3, "https://sohu.com/a/9")

    def similarity(first: Member, second: Member) -> Similarity:
        return similar(0.4, 0.6) if 3 in (first.id, second.id) else similar(0.92, 0.97)

    decision = choose_canonical([original, copy, chained], similarity, POLICY)
    verdicts = {v.id: v for v in decision.members}
    assert verdicts[2].role == "copy" and verdicts[2].jaccard == pytest.approx(0.92)
    assert "1 header/footer line(s) added" in verdicts[2].evidence
    assert verdicts[3].role == "related"
    assert "joined the cluster through another member" in verdicts[3].evidence[0]


def test_oversized_clusters_are_flagged() -> None:
    members = [member(i, f"https://a.example/{i}") for i in range(1, 23)]
    assert choose_canonical(members, always, POLICY, max_size=20).flags == ("oversized",)
    assert choose_canonical(members[:3], always, POLICY, max_size=20).flags == ()
    with pytest.raises(ValueError, match="at least one member"):
        choose_canonical([], always, POLICY)


def test_source_resolution() -> None:
    assert POLICY.resolve("InfoQ") == "infoq.cn"
    assert POLICY.resolve("infoq") == "infoq.cn"
    assert POLICY.resolve("InfoQ 中文站公众号") == "infoq.cn"
    assert POLICY.resolve("https://www.infoq.cn/article/1") == "infoq.cn"
    assert POLICY.resolve("某自媒体") == ""
    assert domain_of("https://WWW.InfoQ.cn:443/x") == "infoq.cn"
    assert normalize_url("http://www.a.example/x/?q=1#top") == "a.example/x?q=1"


def test_union_find_components() -> None:
    assert connected_components([(1, 2), (3, 4), (2, 5), (6, 6)]) == [[1, 2, 5], [3, 4]]
    sets: UnionFind[str] = UnionFind()
    sets.union("a", "b")
    sets.union("c", "b")
    assert sets.find("a") == sets.find("c")
    assert sorted(map(sorted, sets.groups())) == [["a", "b", "c"]]


def test_with_nothing_better_the_member_captured_first_is_the_original() -> None:
    later = member(1, "http://example.com/", fetched_at="2014-01-27T17:12:39+00:00")
    earlier = member(2, "http://example.iana.org/", fetched_at="2013-06-01T10:00:00+00:00")
    decision = choose_canonical([later, earlier], always, POLICY)
    assert decision.canonical is earlier and decision.decided_by == "earliest capture"
    assert any(line.startswith("earliest capture: captured 2013-06-01") for line in decision.evidence)


def test_a_capture_time_never_outweighs_a_publication_time() -> None:
    published = member(1, "http://b.example/", published_at="2024-03-01T00:00:00+00:00", fetched_at="2024-05-01")
    captured_early = member(2, "http://a.example/", fetched_at="2020-01-01T00:00:00+00:00")
    decision = choose_canonical([captured_early, published], always, POLICY)
    assert decision.canonical is published and decision.decided_by == "earliest publication"


def test_the_host_of_plain_urls_is_read_as_urlsplit_reads_it() -> None:
    from urllib.parse import urlsplit

    cases = [
        "https://WWW.InfoQ.cn/x", "http://bendi.news", "http://bendi.news?x=1", "https://a.b.c.example#f",
        "infoq.cn", "WWW.Example.COM/path", "https://user@host.cn/", "https://host.cn:8080/", "https://[::1]/",
        "https://中国.cn/x", " https://pad.cn/", "https://tab.cn\t/", "ftp://files.cn/", "", "no-dot", "//scheme.less/",
        "https://a..b/", "https://-x-.cn/",
    ]  # fmt: skip
    for url in cases:
        try:
            host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
        except ValueError:
            host = ""
        assert domain_of(url) == host.removeprefix("www."), url


def test_urls_are_normalised_as_urlsplit_reads_them() -> None:
    cases = [
        "https://WWW.InfoQ.cn/x/", "http://bendi.news/wxnews/abc?x=1#f", "https://a.cn", "https://a.cn/?",
        "https://a.cn/p?q#", "https://a.cn/p#f?x", "https://a.cn/%E4%B8%AD/", "http://a.cn/a;b=c",
        "https://a.cn/p?q=1&r=2/", "https://a.cn//", "https://a.cn#x", "HTTPS://A.cn/X", " https://a.cn/ ",
        "https://user:pw@a.cn:8080/p", "https://[::1]/p", "https://中国.cn/路径", "https://a.cn/p q", "ftp://a.cn/x",
        "https://a.cn/[x]\\y", "https:///nohost", "a.cn/x", "", "https://a.cn/p\t/q",
    ]  # fmt: skip
    for url in cases:
        assert normalize_url(url) == _normalized_by_urlsplit(url), url


@given(st.text(alphabet=st.sampled_from("ahH:/.?#%=&[]@ 中-_~wW"), max_size=30))
@settings(max_examples=400, deadline=None)
def test_any_url_is_normalised_as_urlsplit_reads_it(tail: str) -> None:
    for url in (tail, "http://" + tail, "https://www." + tail):
        assert normalize_url(url) == _normalized_by_urlsplit(url), url
