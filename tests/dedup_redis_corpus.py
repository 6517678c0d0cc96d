"""A generated corpus for the Redis index tests: unrelated texts, their copies, excerpts and verbatim
twins, and a few texts that join two stories (so that clusters merge), all from a seeded RNG.

Texts are random draws from a pool of common characters, so two unrelated texts share almost no
5-gram; a copy keeps most sentences, edits a few characters and adds an attribution line.
"""

from __future__ import annotations

import random
from dataclasses import asdict

from portal_archive.dedup import Document

POOL = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合"
    "还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只"
)
SENTENCE_END = "。"


def _sentence(rng: random.Random) -> str:
    return "".join(rng.choice(POOL) for _ in range(rng.randint(18, 40))) + SENTENCE_END


def _text(rng: random.Random, sentences: int) -> list[str]:
    return [_sentence(rng) for _ in range(sentences)]


def _copy(rng: random.Random, sentences: list[str], source: str) -> str:
    kept = [s for s in sentences if rng.random() > 0.06] or sentences
    edited = []
    for sentence in kept:
        if rng.random() < 0.1:
            chars = list(sentence)
            chars[rng.randrange(len(chars) - 1)] = rng.choice(POOL)
            sentence = "".join(chars)
        edited.append(sentence)
    return "\n".join([f"来源：{source}", *edited, "责任编辑：张三"])


def corpus(stories: int = 12, *, seed: int = 20240401) -> list[Document]:
    """Documents in a shuffled arrival order: per story an original on a publisher's site, 0-3
    copies and excerpts on aggregators, sometimes a verbatim twin without any metadata (decided by
    the tie-break), and one text per pair of stories that carries both (merging their clusters)."""
    rng = random.Random(seed)
    documents: list[Document] = []
    bodies: list[list[str]] = []
    for story in range(stories):
        sentences = _text(rng, rng.randint(20, 40))
        bodies.append(sentences)
        original = f"https://www.infoq.cn/article/{story:04d}"
        documents.append(
            Document(
                url=original,
                text="\n".join(sentences),
                title=f"原文 {story}",
                site="infoq",
                site_domain="infoq.cn",
                published_at=f"2024-04-{1 + story % 28:02d}T08:00:00+00:00",
                record_id=f"<urn:uuid:00000000-0000-4000-8000-{story:012d}>",
                warc_filename="infoq-20240401000000-00000-host.warc.gz",
                warc_offset=1000 * story,
            )
        )
        for copy in range(rng.randint(0, 3)):
            excerpt = "\n".join(sentences[: len(sentences) * 2 // 3])
            text = excerpt if copy == 2 else _copy(rng, sentences, "InfoQ")
            documents.append(
                Document(
                    url=f"https://bendi.news/wxnews/s{story:04d}c{copy}",
                    text=text,
                    title=f"转载 {story}",
                    site="bendi",
                    published_at=f"2024-04-{1 + story % 28:02d}T09:{copy:02d}:00+00:00" if copy else None,
                    source="InfoQ" if copy != 2 else "",
                )
            )
        if story % 4 == 1:
            twin_text = "\n".join(_text(rng, 25))
            documents += [
                Document(url=f"https://twin-b.example/{story}", text=twin_text),
                Document(url=f"https://twin-a.example/{story}", text=twin_text),
            ]
    for first in range(0, stories - 1, 6):
        both = bodies[first] + bodies[first + 1]
        documents.append(Document(url=f"https://sohu.com/a/both{first}", text="\n".join(both), site="sohu"))
    for unrelated in range(stories):
        documents.append(Document(url=f"https://blog.example.org/p/{unrelated}", text="\n".join(_text(rng, 15))))
    rng.shuffle(documents)
    return documents


def as_json(documents: list[Document]) -> list[dict[str, object]]:
    return [asdict(document) for document in documents]


def from_json(rows: list[dict[str, object]]) -> list[Document]:
    return [Document(**row) for row in rows]  # type: ignore[arg-type]
