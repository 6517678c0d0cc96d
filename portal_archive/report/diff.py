"""What a copy added to or dropped from its original, aligned for a side-by-side view.

Chinese text has no spaces, so words are no unit: texts are cut into sentences (after 。！？；!?;
and at paragraph ends) and the sentence sequences are aligned with ``difflib``. Sentences that
were edited rather than added or dropped are compared character by character, so a changed
number or a swapped name is marked and not the whole sentence.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["Row", "Segment", "Unit", "side_by_side", "split_units"]

SegmentKind = Literal["same", "del", "ins"]

_SENTENCE_END: Final = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)\"'])|(?<=[。！？!?][”’」』])")
_SIMILAR: Final = 0.5
"""Sentences at least this similar are shown as one edited sentence, not a drop plus an addition."""
LOOKAHEAD: Final = 8
"""Added sentences searched for the edited form of a dropped one."""
MAX_UNITS: Final = 3000
"""Sentences compared at most per text (a report page stays quick on a feed stored as a body)."""


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence, and whether it opens a paragraph."""

    text: str
    opens_paragraph: bool


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text: kept, dropped (only in the original) or added (only in the copy)."""

    text: str
    kind: SegmentKind
    opens_paragraph: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One aligned block: the original's side and the copy's side."""

    left: tuple[Segment, ...]
    right: tuple[Segment, ...]
    changed: bool


def split_units(text: str) -> list[Unit]:
    """Sentences of a body text (one paragraph per line), at most ``MAX_UNITS``."""
    units: list[Unit] = []
    for paragraph in text.splitlines():
        parts = [part for part in _SENTENCE_END.split(paragraph.strip()) if part.strip()]
        for position, part in enumerate(parts):
            units.append(Unit(part, position == 0))
            if len(units) >= MAX_UNITS:
                return units
    return units


def _segments(units: list[Unit], kind: SegmentKind) -> tuple[Segment, ...]:
    return tuple(Segment(unit.text, kind, unit.opens_paragraph) for unit in units)


def _edited(old: Unit, new: Unit) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Character-level marks inside one edited sentence."""
    matcher = difflib.SequenceMatcher(None, old.text, new.text, autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(Segment(old.text[i1:i2], "same"))
            right.append(Segment(new.text[j1:j2], "same"))
            continue
        if i2 > i1:
            left.append(Segment(old.text[i1:i2], "del"))
        if j2 > j1:
            right.append(Segment(new.text[j1:j2], "ins"))
    if left:
        left[0] = Segment(left[0].text, left[0].kind, old.opens_paragraph)
    if right:
        right[0] = Segment(right[0].text, right[0].kind, new.opens_paragraph)
    return tuple(left), tuple(right)


def _similar(first: Unit, second: Unit) -> bool:
    return difflib.SequenceMatcher(None, first.text, second.text, autojunk=False).ratio() >= _SIMILAR


def _replace(old: list[Unit], new: list[Unit]) -> list[Row]:
    """Pair each dropped sentence with the next similar added one (in order): an edit, marked inside.

    Sentences left unpaired are dropped (left) or added (right). The search looks ``LOOKAHEAD``
    sentences ahead, so a long rewritten block costs little.
    """
    rows: list[Row] = []
    dropped: list[Unit] = []
    position = 0
    for unit in old:
        ahead = new[position : position + LOOKAHEAD]
        match = next((offset for offset, candidate in enumerate(ahead) if _similar(unit, candidate)), None)
        if match is None:
            dropped.append(unit)
            continue
        added = new[position : position + match]
        if dropped or added:
            rows.append(Row(_segments(dropped, "del"), _segments(added, "ins"), True))
            dropped = []
        left, right = _edited(unit, new[position + match])
        rows.append(Row(left, right, True))
        position += match + 1
    if dropped or position < len(new):
        rows.append(Row(_segments(dropped, "del"), _segments(new[position:], "ins"), True))
    return rows


def side_by_side(original: str, copy: str) -> list[Row]:
    """Aligned rows of the original (left) against the copy (right).

    Example:
        >>> rows = side_by_side("甲。", "甲。丙。")
        >>> [(s.text, s.kind) for s in rows[-1].right]
        [('丙。', 'ins')]
    """
    old, new = split_units(original), split_units(copy)
    matcher = difflib.SequenceMatcher(None, [u.text for u in old], [u.text for u in new], autojunk=False)
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.append(Row(_segments(old[i1:i2], "same"), _segments(new[j1:j2], "same"), False))
        elif tag == "delete":
            rows.append(Row(_segments(old[i1:i2], "del"), (), True))
        elif tag == "insert":
            rows.append(Row((), _segments(new[j1:j2], "ins"), True))
        else:
            rows.extend(_replace(old[i1:i2], new[j1:j2]))
    return rows
