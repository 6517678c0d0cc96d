"""Which member of a cluster is the original, which are copies or excerpts, and why.

Evidence is weighed in a fixed order; each step narrows the set of candidates only when it can tell
them apart, and every step that narrowed it is recorded:

1. **attribution**: a member names its source (``来源：InfoQ``, ``本文转载自…``, ``原标题：…``, or the
   extractor's ``source_domain``), resolved to a domain through ``source_domains``; a member on that
   domain (or whose title the ``原标题`` gives) wins. An outlet no member is on is recorded as
   ``unarchived source``;
2. **canonical link**: ``rel=canonical`` / ``og:url`` of one member names another member's URL;
3. **read original**: a ``阅读原文`` / ``原文链接`` link of one member points at another;
4. **earliest publication** in UTC, within ``time_tolerance``; members without a time lose;
5. **containment direction**: a member whose text is an excerpt of another loses, then the member
   carrying the fewest added header/footer lines (byline, ``来源``, ``相关阅读``…) wins;
6. **publisher over aggregator**: ``publisher_domains`` beat unknown sites, which beat
   ``aggregator_domains``;
7. **tie-break**: a byline, then the longer text, then the smallest normalised URL (not the first
   indexed: which copy a crawl indexes first depends on arrival order, and crawl workers on several
   machines interleave differently, so the choice depends on the members alone).

Each other member is then compared with the chosen original itself (transitive chains are not
trusted): ``copy`` or ``excerpt`` when it passes the copy rule against it, ``related`` otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import urlsplit

from portal_archive import settings as project
from portal_archive.dedup.verify import CopyRule, Similarity
from portal_archive.timestamps import parse_iso, to_iso

__all__ = [
    "DEFAULT_AGGREGATOR_DOMAINS",
    "DEFAULT_PUBLISHER_DOMAINS",
    "DEFAULT_SOURCE_DOMAINS",
    "CanonicalPolicy",
    "ClusterDecision",
    "Member",
    "MemberVerdict",
    "Role",
    "choose_canonical",
    "domain_of",
    "judge_member",
    "normalize_url",
]

Role = Literal["original", "copy", "excerpt", "related"]

DEFAULT_SOURCE_DOMAINS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "InfoQ": "infoq.cn",
        "InfoQ中文站": "infoq.cn",
        "AI前线": "infoq.cn",
        "极客邦科技": "infoq.cn",
        "36氪": "36kr.com",
        "36Kr": "36kr.com",
        "新华社": "xinhuanet.com",
        "新华网": "xinhuanet.com",
        "澎湃新闻": "thepaper.cn",
        "澎湃": "thepaper.cn",
        "财新网": "caixin.com",
        "财新": "caixin.com",
        "人民日报": "people.com.cn",
        "人民网": "people.com.cn",
        "新浪科技": "tech.sina.com.cn",
        "新浪娱乐": "ent.sina.com.cn",
        "新浪体育": "sports.sina.com.cn",
        "中国新闻网": "chinanews.com.cn",
        "中新网": "chinanews.com.cn",
        "界面新闻": "jiemian.com",
        "虎嗅": "huxiu.com",
        "钛媒体": "tmtpost.com",
    }
)
"""Outlet names as they appear in attribution lines, and the domain each publishes on."""
DEFAULT_PUBLISHER_DOMAINS: Final = project.DEDUP_PUBLISHER_DOMAINS
"""Domains that publish originals: the ``DEDUP_PUBLISHER_DOMAINS`` default."""
DEFAULT_AGGREGATOR_DOMAINS: Final = project.DEDUP_AGGREGATOR_DOMAINS
"""Domains that republish: the ``DEDUP_AGGREGATOR_DOMAINS`` default."""
_SPACE_OR_PUNCT: Final = re.compile(r"[\W_]+")
_PLAIN_URL: Final = re.compile(r"https?://([A-Za-z0-9.-]+)(/[!$-;=@-~]*)?(?:\?([!$-;=?@-~]*))?(?:#[!-~]*)?")
"""An http(s) URL of printable ASCII without spaces, user or port, whose path has no ``?`` or ``#``."""
_PLAIN_HOST: Final = re.compile(r"(?:https?://|(?=[A-Za-z0-9.-]+(?:[/?#]|\Z)))([A-Za-z0-9.-]+)(?=[/?#]|\Z)")
"""An http(s) URL or a bare host whose host is plain ASCII (no user, port, brackets or spaces)."""
_DOMAIN_LIKE: Final = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/|$)", re.ASCII)


def domain_of(url: str) -> str:
    """The host of a URL, lower case, without ``www.`` (``""`` when there is none)."""
    if not url:
        return ""
    plain = _PLAIN_HOST.match(url)
    if plain is not None:  # what urlsplit gives, a third of the cost (a report reads every URL)
        return plain.group(1).lower().removeprefix("www.")
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _on_domain(host: str, domain: str) -> bool:
    return bool(host and domain) and (host == domain or host.endswith("." + domain))


def normalize_url(url: str) -> str:
    """A URL reduced for comparison: no scheme, ``www.``, fragment or trailing slash."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:  # what urlsplit gives, at a fifth of the cost (every indexed document's key)
        host, path, query = (
            plain.group(1).lower().removeprefix("www."),
            (plain.group(2) or "").rstrip("/"),
            plain.group(3),
        )
        return f"{host}{path}?{query}" if query else f"{host}{path}"
    return _normalized_by_urlsplit(url)


def _normalized_by_urlsplit(url: str) -> str:
    """``normalize_url``'s definition, for every URL (its fast path gives the same for plain ones)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}?{parts.query}" if parts.query else f"{host}{path}"


def _same_title(first: str, second: str) -> bool:
    """Titles equal after NFKC, lower case and without punctuation (``原标题`` matching)."""
    a = _SPACE_OR_PUNCT.sub("", unicodedata.normalize("NFKC", first).lower())
    b = _SPACE_OR_PUNCT.sub("", unicodedata.normalize("NFKC", second).lower())
    return bool(a) and a == b


@dataclass(frozen=True, kw_only=True)
class Member:
    """What the canonical choice knows about one member of a cluster."""

    id: int
    url: str
    title: str = ""
    site: str = ""
    site_domain: str = ""
    """The domain the member's portal publishes on, when known."""
    published_at: str | None = None
    fetched_at: str | None = None
    """When the member was captured (kept when it has no publication time)."""
    canonical_url: str = ""
    read_original_urls: tuple[str, ...] = ()
    attributions: tuple[str, ...] = ()
    """Outlets the member names as its source (names or domains)."""
    original_titles: tuple[str, ...] = ()
    byline: str = ""
    chars: int = 0
    shingles: int = 0
    copy_markers: int = 0
    """Header/footer lines stripped from the member's text: what a republisher adds."""

    @cached_property
    def domain(self) -> str:
        """The portal's domain when known, else the host of the member's URL, without ``www.``."""
        return domain_of(self.site_domain) if self.site_domain else domain_of(self.url)

    def label(self) -> str:
        return f"#{self.id} ({self.domain or self.url})"


@dataclass(frozen=True, kw_only=True)
class CanonicalPolicy:
    """Parameters of the canonical choice.

    Args:
        source_domains: Outlet name → domain, for attribution lines (matched case-insensitively,
            whole name first, then the longest name contained in the line).
        publisher_domains: Domains that publish originals.
        aggregator_domains: Domains that republish (portals, self-media platforms, mirrors).
        time_tolerance: Publication times closer than this count as simultaneous.
        rule: The copy rule, to tell copies from excerpts when checking members.
        excerpt_ratio: A member contained in another and shorter than this share of its length is an
            excerpt of it (used for the containment direction).
    """

    source_domains: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SOURCE_DOMAINS)
    publisher_domains: tuple[str, ...] = DEFAULT_PUBLISHER_DOMAINS
    aggregator_domains: tuple[str, ...] = DEFAULT_AGGREGATOR_DOMAINS
    time_tolerance: timedelta = timedelta(minutes=5)
    rule: CopyRule = field(default_factory=CopyRule)
    excerpt_ratio: float = 0.9

    @cached_property
    def _names(self) -> dict[str, str]:
        return {name.casefold(): domain for name, domain in self.source_domains.items() if name}

    def resolve(self, outlet: str) -> str:
        """The domain an attribution names (``InfoQ`` → ``infoq.cn``), or ``""``."""
        text = outlet.strip()
        if not text:
            return ""
        if _DOMAIN_LIKE.match(text):
            return domain_of(text)
        folded = text.casefold()
        names = self._names
        if folded in names:
            return names[folded]
        contained = [name for name in names if name in folded]
        return names[max(contained, key=len)] if contained else ""

    def rank(self, member: Member) -> int:
        """1 for a publisher, -1 for an aggregator, 0 otherwise."""
        host = member.domain
        if any(_on_domain(host, d) for d in self.publisher_domains):
            return 1
        if any(_on_domain(host, d) for d in self.aggregator_domains):
            return -1
        return 0


@dataclass(frozen=True, kw_only=True)
class MemberVerdict:
    """One member's role in its cluster, its similarity to the original, and why."""

    id: int
    url: str
    role: Role
    jaccard: float | None = None
    """Similarity to the original (None for the original itself)."""
    containment: float | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ClusterDecision:
    """The original of a cluster, the evidence that chose it, and every member's role."""

    canonical: Member
    decided_by: str
    """The evidence kind that singled out the original (``attribution`` … ``tie-break``)."""
    evidence: tuple[str, ...]
    members: tuple[MemberVerdict, ...]
    flags: tuple[str, ...] = ()

    def verdict(self, member_id: int) -> MemberVerdict:
        """The verdict of one member."""
        for verdict in self.members:
            if verdict.id == member_id:
                return verdict
        raise KeyError(member_id)


SimilarityOf = Callable[[Member, Member], Similarity]


class _Narrowing:
    """Candidates for the original, narrowed step by step, with the reasons kept."""

    def __init__(self, members: Sequence[Member]) -> None:
        self.candidates = list(members)
        self.evidence: list[str] = []
        self.decided_by = ""

    def narrow(self, kind: str, keep: Sequence[Member], reason: str) -> None:
        wanted = {m.id for m in keep}
        kept = [m for m in self.candidates if m.id in wanted]
        if not kept or len(kept) == len(self.candidates):
            return
        self.candidates = kept
        self.evidence.append(f"{kind}: {reason}")
        if len(kept) == 1 and not self.decided_by:
            self.decided_by = kind


def _attribution(members: Sequence[Member], policy: CanonicalPolicy, state: _Narrowing, notes: list[str]) -> None:
    named: list[Member] = []
    reasons: list[str] = []
    own: list[str] = []
    """Members naming their own site (an original's "来源：InfoQ" on infoq.cn): said only when nothing
    else is, since it points nowhere but at the claimant."""
    for claimant in members:
        outlets: dict[str, list[str]] = {}  # per domain named, the outlets that name it ("InfoQ", "infoq.cn")
        for outlet in claimant.attributions:
            domain = policy.resolve(outlet)
            if domain:
                outlets.setdefault(domain, []).append(outlet)
        for domain, names in outlets.items():
            said = " and ".join(repr(name) for name in names)
            hosts = [m for m in members if _on_domain(m.domain, domain)]
            if hosts:
                named.extend(hosts)
                held = ", ".join(m.label() for m in hosts)
                reason = f"{claimant.label()} names {said} as its source; {domain} holds {held}"
                (own if hosts == [claimant] else reasons).append(reason)
            else:
                notes.append(
                    f"unarchived source: {claimant.label()} names {said} as its source; {domain} is not in the cluster"
                )
        for title in claimant.original_titles:
            titled = [m for m in members if m is not claimant and _same_title(m.title, title)]
            if titled:
                named.extend(titled)
                held = ", ".join(m.label() for m in titled)
                reasons.append(f"{claimant.label()} gives its original title (原标题) {title!r}, the title of {held}")
    if named:
        state.narrow("attribution", named, "; ".join(reasons or own))


def _links(members: Sequence[Member], state: _Narrowing) -> None:
    by_url = {normalize_url(m.url): m for m in members}
    canonical_targets: list[Member] = []
    canonical_reasons: list[str] = []
    original_targets: list[Member] = []
    original_reasons: list[str] = []
    for member in members:
        target = by_url.get(normalize_url(member.canonical_url)) if member.canonical_url else None
        if target is not None and target is not member:
            canonical_targets.append(target)
            canonical_reasons.append(f"{member.label()} names {target.label()} its canonical page (rel=canonical)")
        for link in member.read_original_urls:
            linked = by_url.get(normalize_url(link))
            if linked is not None and linked is not member:
                original_targets.append(linked)
                original_reasons.append(f"{member.label()} links {linked.label()} as its original (阅读原文)")
    if canonical_targets:
        state.narrow("canonical link", canonical_targets, "; ".join(canonical_reasons))
    if original_targets:
        state.narrow("read original", original_targets, "; ".join(original_reasons))


def _earliest(policy: CanonicalPolicy, state: _Narrowing) -> None:
    timed = [(moment, m) for m in state.candidates if (moment := parse_iso(m.published_at)) is not None]
    if not timed:
        return
    first = min(moment for moment, _ in timed)
    earliest = [m for moment, m in timed if moment - first <= policy.time_tolerance]
    missing = len(state.candidates) - len(timed)
    detail = f"published {to_iso(first)}: {', '.join(m.label() for m in earliest)}"
    if missing:
        detail += f" ({missing} without a time)"
    state.narrow("earliest publication", earliest, detail)


def _direction(similarity: SimilarityOf, policy: CanonicalPolicy, state: _Narrowing) -> None:
    excerpts: list[str] = []
    whole: list[Member] = []
    for member in state.candidates:
        container = next(
            (
                other
                for other in state.candidates
                if other is not member
                and member.shingles < policy.excerpt_ratio * other.shingles
                and similarity(member, other).containment >= policy.rule.containment
            ),
            None,
        )
        if container is None:
            whole.append(member)
        else:
            excerpts.append(f"{member.label()} is an excerpt of {container.label()}")
    state.narrow("containment direction", whole, "; ".join(excerpts))
    fewest = min(m.copy_markers for m in state.candidates)
    clean = [m for m in state.candidates if m.copy_markers == fewest]
    state.narrow(
        "containment direction",
        clean,
        f"{', '.join(m.label() for m in clean)} carry no header/footer lines the others add"
        if fewest == 0
        else f"{', '.join(m.label() for m in clean)} carry the fewest added header/footer lines ({fewest})",
    )


def _authority(policy: CanonicalPolicy, state: _Narrowing) -> None:
    best = max(policy.rank(m) for m in state.candidates)
    label = {1: "publisher", 0: "unlisted site", -1: "aggregator"}[best]
    top = [m for m in state.candidates if policy.rank(m) == best]
    state.narrow("publisher ranking", top, f"{label}: {', '.join(m.label() for m in top)}")


def _earliest_capture(policy: CanonicalPolicy, state: _Narrowing) -> None:
    """Nothing better decided: the member captured first (a page fetched a year earlier came first)."""
    timed = [(moment, m) for m in state.candidates if m.published_at is None and (moment := parse_iso(m.fetched_at))]
    if len(timed) < len(state.candidates) or len(timed) < 2:
        return  # fetch times only compare members that have nothing but them
    first = min(moment for moment, _ in timed)
    earliest = [m for moment, m in timed if moment - first <= policy.time_tolerance]
    state.narrow("earliest capture", earliest, f"captured {to_iso(first)}: {', '.join(m.label() for m in earliest)}")


def _tie_break(state: _Narrowing) -> None:
    with_byline = [m for m in state.candidates if m.byline]
    state.narrow("tie-break", with_byline, f"byline: {', '.join(m.label() for m in with_byline)}")
    longest = max(m.chars for m in state.candidates)
    state.narrow("tie-break", [m for m in state.candidates if m.chars == longest], f"longest text ({longest} chars)")
    first = min(state.candidates, key=lambda m: (normalize_url(m.url), m.url, m.id))
    state.narrow("tie-break", [first], f"first in URL order: {first.label()}")


def choose_canonical(
    members: Sequence[Member], similarity: SimilarityOf, policy: CanonicalPolicy | None = None, *, max_size: int = 20
) -> ClusterDecision:
    """Choose the original of a cluster and give every member its role.

    Args:
        members: The cluster's members (at least one).
        similarity: Similarity of two members (estimated or exact shingle overlap).
        policy: Domains, tolerance and copy rule; the defaults know InfoQ, 36氪, 新华社, 澎湃… and
            treat Bendi News, 网易号, 搜狐号, 百家号, 今日头条 as aggregators.
        max_size: Clusters with more members are flagged ``oversized`` (usually a scraper artefact:
            a feed or a template stored as the body).

    Returns:
        The decision: original, evidence in the order it was used, and per-member verdicts.

    Raises:
        ValueError: ``members`` is empty.
    """
    if not members:
        raise ValueError("a cluster needs at least one member")
    policy = policy or CanonicalPolicy()
    state = _Narrowing(members)
    notes: list[str] = []
    _attribution(members, policy, state, notes)
    _links(members, state)
    _earliest(policy, state)
    _direction(similarity, policy, state)
    _authority(policy, state)
    _earliest_capture(policy, state)
    _tie_break(state)
    canonical = state.candidates[0]
    verdicts = [MemberVerdict(id=canonical.id, url=canonical.url, role="original", evidence=tuple(state.evidence))]
    for member in members:
        if member is canonical:
            continue
        verdicts.append(judge_member(member, canonical, similarity(member, canonical), policy))
    flags = ("oversized",) if len(members) > max_size else ()
    return ClusterDecision(
        canonical=canonical,
        decided_by=state.decided_by or "single member",
        evidence=tuple(state.evidence + notes),
        members=tuple(verdicts),
        flags=flags,
    )


def judge_member(member: Member, canonical: Member, similarity: Similarity, policy: CanonicalPolicy) -> MemberVerdict:
    """A non-original member's role, from its own similarity to the original."""
    relation = policy.rule.judge(similarity.jaccard, similarity.containment, member.chars, canonical.chars)
    measured = f"J={similarity.jaccard:.2f}, containment={similarity.containment:.2f} with {canonical.label()}"
    role: Role
    if relation is None:
        role = "related"
        evidence = [f"not a copy of the original itself ({measured}): joined the cluster through another member"]
    elif relation == "excerpt" and member.shingles < canonical.shingles:
        role = "excerpt"
        evidence = [f"excerpt ({measured})"]
    else:
        role = "copy"
        evidence = [f"copy ({measured})"]
    if member.copy_markers:
        evidence.append(f"{member.copy_markers} header/footer line(s) added")
    return MemberVerdict(
        id=member.id,
        url=member.url,
        role=role,
        jaccard=round(similarity.jaccard, 4),
        containment=round(similarity.containment, 4),
        evidence=tuple(evidence),
    )
