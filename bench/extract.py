"""Score article extractors on a labelled dataset: ours, trafilatura and readability-lxml.

Usage::

    bench/extract.py --dataset /path/to/aeb [--format aeb|daniel] [--limit N] [--repeat 3]
    bench/extract.py --dataset ../shared/data/realpages_zh --format silver

``silver`` is for pages without reference text (a guardrail, not a score): per extractor, the pages
it returns empty, the share of the sentences both peers (readability-lxml and trafilatura) keep,
less page furniture (breadcrumbs, editor, source and copyright lines), that it keeps, and the pages
whose body still holds a comment box, a share bar, a platform disclaimer or a recommendation list.

Metrics follow the article-extraction-benchmark scorer (``evaluate.py``): per page, TP/FP/FN
over token 4-gram shingles normalised by their sum; precision and recall are averaged over
pages, F1 is the harmonic mean of the two averages. ``char`` tokenisation makes every CJK
ideograph a token (character 4-grams), which is what a Chinese comparison needs; ``word`` is the
benchmark's own ``\\w+``. Every page is decoded once, the same way for every extractor, and only
the extractor call (plus turning its output into text) is timed. Datasets are read in place.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from portal_archive.extract import decode_html, extract_from_text  # noqa: E402

_WORD_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CHAR_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+", re.UNICODE)
_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_END_RE = re.compile(r"</(?:p|div|li|h[1-6]|tr|blockquote|pre|dd|dt|section|article|table)>|<br\s*/?>", re.I)

Extractor = Callable[[str, str], str]
TpFpFn = tuple[float, float, float]


@dataclass
class Page:
    """One dataset page: its id, URL, decoded HTML and expected body."""

    key: str
    url: str
    html: str
    truth: str


@dataclass
class Result:
    """One extractor's outputs, timings and failures over the dataset."""

    outputs: dict[str, str] = field(default_factory=dict)
    millis: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def tokenize(text: str, mode: str) -> list[str]:
    """``word``: the benchmark's ``\\w+``; ``char``: every CJK ideograph on its own."""
    return (_CHAR_RE if mode == "char" else _WORD_RE).findall(text or "")


def shingle_counts(text: str, mode: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Token n-grams as the benchmark builds them (a text shorter than n is one shingle)."""
    tokens = tokenize(text, mode)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def shingle_matching(true: str, pred: str, mode: str) -> TpFpFn:
    """Normalised TP/FP/FN over shingles, as ``string_shingle_matching`` in ``evaluate.py``."""
    truth, guess = shingle_counts(true, mode), shingle_counts(pred, mode)
    tp = fp = fn = 0.0
    for key in truth.keys() | guess.keys():
        t, p = truth.get(key, 0), guess.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total > 0 else (tp, fp, fn)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def metrics(rows: list[TpFpFn]) -> dict[str, float]:
    """Averaged precision and recall, and F1 of the averages."""
    precision = statistics.mean([_precision(*r) for r in rows if r[0] + r[1] > 0] or [0.0])
    recall = statistics.mean([_recall(*r) for r in rows if r[0] + r[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def f1_std(rows: list[TpFpFn], samples: int = 300, seed: int = 0) -> float:
    """Bootstrap standard deviation of F1 over pages."""
    rng = random.Random(seed)
    n = len(rows)
    values = [metrics([rows[rng.randrange(n)] for _ in range(n)])["f1"] for _ in range(samples)]
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _reference_text(raw: str) -> str:
    """daniel_zh references are ``<p>``-wrapped paragraphs: keep the text, one line each."""
    return html.unescape(_TAG_RE.sub("", _BLOCK_END_RE.sub("\n", raw))).strip()


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n")
_SPACE = re.compile(r"\s+")
_FURNITURE = re.compile(
    r"^(?:责任编辑|責任編輯|编辑|編輯|来源|來源|作者|记者|記者|原标题|原標題|本文来源|图片来源|校对|审核|监制|出品)\s*[:：|丨]"
    r"|当前位置|當前位置|首页\s*[>＞»/]|^[>＞»]|版权所有|版權所有|未经授权|未經授權|转载请注明|轉載請註明"
    r"|特别声明|特別聲明|免责声明|免責聲明|本文仅代表|不代表本站|不代表本网|^声明[:：]|^關鍵詞|^关键词|^标签[:：]"
    r"|^.{0,30}(?:来源|來源)[:：]",
)
"""Sentences that are page furniture even when both peers keep them: breadcrumbs, bylines, notices."""
_LEFTOVERS: dict[str, re.Pattern[str]] = {
    "comments": re.compile(
        r"跟贴|跟帖|網友評論|网友评论|发表评论|發表評論|我要评论|条评论|條評論|已有\d+人参与"
        r"|登录后(?:发表|评论)|评论\(\d+\)"
    ),
    "share bar": re.compile(r"分享到[:：]?\s*(?:微信|微博|QQ|朋友圈)|微信扫一扫|扫一扫分享|分享至"),
    "disclaimer": re.compile(
        r"特别声明[:：]以上|特別聲明[:：]以上|不代表本站观点|不代表本網觀點|本站不承担"
        r"|免责声明[:：]"
    ),
    "recommendations": re.compile(
        r"^\s*(?:相关阅读|相關閱讀|推荐阅读|推薦閱讀|热点推荐|熱點推薦|延伸阅读|延伸閱讀|猜你喜欢|猜你喜歡|相关新闻|相關新聞"
        r"|热门推荐|熱門推薦|热门文章|熱門文章|更多精彩|精彩推荐|精彩推薦)\s*[:：]?\s*$",
        re.MULTILINE,
    ),
}
"""Boilerplate that must not be in a body, by kind (simplified and traditional)."""


_PUNCTUATED = re.compile(r"[。！？!?；;，,]")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def sentences(text: str) -> set[str]:
    """A text's sentences of eight characters or more, white space removed (how peers' outputs are compared)."""
    found = set()
    for part in _SENTENCE_END.split(text or ""):
        sentence = _SPACE.sub("", part)
        if len(sentence) >= 8:
            found.add(sentence)
    return found


def consensus_sentences(page: Page, outputs: list[str]) -> set[str]:
    """Sentences every output keeps, less page furniture: unpunctuated labels (bylines, headlines), the
    page's title, notices, source and keyword lines."""
    title_match = _TITLE.search(page.html)
    title = _SPACE.sub("", html.unescape(title_match.group(1))) if title_match else ""
    kept = set.intersection(*(sentences(output) for output in outputs))
    return {
        sentence
        for sentence in kept
        if _PUNCTUATED.search(sentence) and not _FURNITURE.search(sentence) and not (title and sentence in title)
    }


def leftovers(body: str) -> list[str]:
    """The kinds of boilerplate found in ``body``."""
    return [kind for kind, pattern in _LEFTOVERS.items() if pattern.search(body or "")]


def load_pages(dataset: Path, fmt: str, limit: int | None) -> Iterator[Page]:
    """Decode every page with the project's charset logic, once for all extractors."""
    if fmt == "silver":
        paths = sorted((dataset / "html").glob("*.html"))
        for path in paths[:limit] if limit else paths:
            text, _ = decode_html(path.read_bytes())
            yield Page(path.stem, f"http://{path.stem.rsplit('_', 1)[0]}/", text, "")
        return
    if fmt == "aeb":
        truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
        keys = sorted(truth)[:limit] if limit else sorted(truth)
        for key in keys:
            raw = gzip.decompress((dataset / "html" / f"{key}.html.gz").read_bytes())
            text, _ = decode_html(raw)
            yield Page(key, truth[key].get("url", ""), text, truth[key].get("articleBody", ""))
    else:
        paths = sorted((dataset / "html").glob("*.html.gz"))
        for path in paths[:limit] if limit else paths:
            key = path.name.removesuffix(".html.gz")
            reference = dataset / "reference" / f"{key}.txt"
            if not reference.is_file():
                continue
            raw = gzip.decompress(path.read_bytes())
            text, _ = decode_html(raw)
            yield Page(key, f"http://{key.split('_')[1]}/", text, _reference_text(reference.read_text("utf-8")))


def _html_to_text(fragment: str) -> str:
    """Text of an HTML fragment with a newline after every block element."""
    from lxml import html as lxml_html

    if not fragment.strip():
        return ""
    root = lxml_html.fromstring(fragment)
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag in {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}:
            el.tail = "\n" + (el.tail or "")
    return re.sub(r"\n\s*\n+", "\n", root.text_content()).strip()


def ours(page_html: str, url: str) -> str:
    """This project's extractor, body only."""
    return extract_from_text(page_html, url=url).body_text


def ours_with_title(page_html: str, url: str) -> str:
    """This project's extractor, title line then body (the daniel_zh references start with the title)."""
    article = extract_from_text(page_html, url=url)
    return f"{article.title}\n{article.body_text}" if article.title else article.body_text


def trafilatura_default(page_html: str, url: str) -> str:
    """trafilatura ``extract(html, include_comments=False)``."""
    import trafilatura

    return trafilatura.extract(page_html, include_comments=False) or ""


def trafilatura_precision(page_html: str, url: str) -> str:
    """trafilatura with ``favor_precision=True``."""
    import trafilatura

    return trafilatura.extract(page_html, include_comments=False, favor_precision=True) or ""


def readability(page_html: str, url: str) -> str:
    """readability-lxml ``Document(html).summary(html_partial=True)``, as text."""
    from readability import Document

    return _html_to_text(Document(page_html).summary(html_partial=True))


EXTRACTORS: dict[str, Extractor] = {
    "ours": ours,
    "ours+title": ours_with_title,
    "trafilatura": trafilatura_default,
    "trafilatura-precision": trafilatura_precision,
    "readability": readability,
}


def run(extractor: Extractor, pages: list[Page], repeat: int) -> Result:
    """Call the extractor on every page ``repeat`` times; keep the median time per page."""
    result = Result()
    for page in pages:
        timings = []
        output = ""
        for _ in range(repeat):
            started = time.perf_counter()
            try:
                output = extractor(page.html, page.url)
            except Exception as error:
                result.errors[page.key] = f"{type(error).__name__}: {error}"
                output = ""
            timings.append((time.perf_counter() - started) * 1000)
        result.outputs[page.key] = output
        result.millis[page.key] = statistics.median(timings)
    return result


def summarise(result: Result, pages: list[Page], modes: list[str]) -> dict[str, Any]:
    """Metrics per tokenisation, timing percentiles and error count."""
    summary: dict[str, Any] = {}
    for mode in modes:
        rows = [shingle_matching(p.truth, result.outputs[p.key], mode) for p in pages]
        summary[mode] = {**metrics(rows), "f1_std": f1_std(rows)}
        summary[mode]["per_page_f1"] = {
            p.key: round(2 * _precision(*r) * _recall(*r) / ((_precision(*r) + _recall(*r)) or 1), 4)
            for p, r in zip(pages, rows, strict=True)
        }
    times = sorted(result.millis.values())
    summary["ms_median"] = statistics.median(times)
    summary["ms_p90"] = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    summary["errors"] = len(result.errors)
    summary["error_samples"] = dict(list(result.errors.items())[:5])
    return summary


_PEERS = ("readability", "trafilatura")
_ENOUGH = 3
"""Consensus sentences a page needs to count in the kept share."""
_EMPTY = 20
"""A body of fewer characters is as good as none (a follow button, a date)."""


def silver_summaries(results: dict[str, Result], pages: list[Page]) -> dict[str, dict[str, Any]]:
    """Per extractor: empty bodies, consensus sentences kept, boilerplate left (see the module docstring)."""
    consensus = {
        page.key: consensus_sentences(page, [results[peer].outputs[page.key] for peer in _PEERS]) for page in pages
    }
    counted = [page.key for page in pages if len(consensus[page.key]) >= _ENOUGH]
    summaries: dict[str, dict[str, Any]] = {}
    for name, result in results.items():
        # Kept: found in the output's text, white space removed (an output may break a line elsewhere).
        texts = {key: _SPACE.sub("", result.outputs[key]) for key in counted}
        kept = {key: sum(sentence in texts[key] for sentence in consensus[key]) for key in counted}
        share = {key: kept[key] / len(consensus[key]) for key in counted}
        times = sorted(result.millis.values())
        summaries[name] = {
            "empty": sorted(page.key for page in pages if len(_SPACE.sub("", result.outputs[page.key])) < _EMPTY),
            "consensus_pages": len(counted),
            "consensus_kept": sum(kept.values()) / (sum(len(consensus[key]) for key in counted) or 1),
            "under_90": sorted(key for key in counted if share[key] < 0.9),
            "leftovers": {page.key: found for page in pages if (found := leftovers(result.outputs[page.key]))},
            "ms_median": statistics.median(times),
            "ms_p90": times[min(len(times) - 1, round(0.9 * (len(times) - 1)))],
            "errors": len(result.errors),
        }
    return summaries


def print_silver(dataset: str, summaries: dict[str, dict[str, Any]]) -> None:
    """The guardrail table, then the pages behind each failing count."""
    print(f"\n{dataset}\n")
    print("| extractor | empty bodies | consensus kept | pages < 90 % kept | pages with boilerplate | ms median "
          "| ms p90 |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in summaries.items():
        kept = f"{row['consensus_kept']:.1%} ({row['consensus_pages']} pages)"
        print(f"| {name} | {len(row['empty'])} | {kept} | {len(row['under_90'])} | {len(row['leftovers'])} "
              f"| {row['ms_median']:.1f} | {row['ms_p90']:.1f} |")  # fmt: skip
    for name, row in summaries.items():
        if row["empty"] or row["under_90"] or row["leftovers"]:
            print(f"\n{name}: empty {row['empty']}; under 90 % {row['under_90']}; boilerplate {row['leftovers']}")


def print_table(dataset: str, summaries: dict[str, dict[str, Any]], modes: list[str]) -> None:
    """A markdown table: F1/P/R per tokenisation, then timing."""
    header = ["extractor"]
    for mode in modes:
        header += [f"{mode} F1", f"{mode} P", f"{mode} R"]
    header += ["ms median", "ms p90", "errors"]
    print(f"\n{dataset}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, summary in summaries.items():
        cells = [name]
        for mode in modes:
            m = summary[mode]
            cells += [f"{m['f1']:.3f}±{m['f1_std']:.3f}", f"{m['precision']:.3f}", f"{m['recall']:.3f}"]
        cells += [f"{summary['ms_median']:.1f}", f"{summary['ms_p90']:.1f}", str(summary["errors"])]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every extractor on the same pages, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataset", required=True, type=Path, help="dataset folder (read in place)")
    parser.add_argument(
        "--format", choices=("aeb", "daniel", "silver"), help="layout; guessed from the folder when omitted"
    )
    parser.add_argument("--limit", type=int, help="first N pages only")
    parser.add_argument("--repeat", type=int, default=1, help="calls per page; the median time is kept")
    parser.add_argument(
        "--extractors", default=",".join(EXTRACTORS), help=f"comma-separated subset of {', '.join(EXTRACTORS)}"
    )
    parser.add_argument("--output", type=Path, help="JSON results (default bench/results/extract-<dataset>.json)")
    parser.add_argument("--dump", type=Path, help="folder to write each extractor's output per page, for reading")
    args = parser.parse_args(argv)
    fmt = args.format or (
        "aeb" if (args.dataset / "ground-truth.json").is_file()
        else "daniel" if (args.dataset / "reference").is_dir() else "silver"
    )  # fmt: skip
    modes = ["word"] if fmt == "aeb" else ["char", "word"]
    names = [n.strip() for n in args.extractors.split(",") if n.strip()]
    if fmt == "silver":
        names = [n for n in names if n != "ours+title"] + [p for p in _PEERS if p not in names]
    unknown = [n for n in names if n not in EXTRACTORS]
    if unknown:
        parser.error(f"unknown extractor(s): {', '.join(unknown)}")
    pages = list(load_pages(args.dataset, fmt, args.limit))
    summaries: dict[str, dict[str, Any]] = {}
    results: dict[str, Result] = {}
    for name in names:
        result = results[name] = run(EXTRACTORS[name], pages, args.repeat)
        if fmt != "silver":
            summaries[name] = summarise(result, pages, modes)
        if args.dump:
            folder = args.dump / name
            folder.mkdir(parents=True, exist_ok=True)
            for key, text in result.outputs.items():
                (folder / f"{key[:120]}.txt").write_text(text, encoding="utf-8")
        print(f"{name}: done", file=sys.stderr)
    dataset_name = args.dataset.resolve().name
    if fmt == "silver":
        summaries = silver_summaries(results, pages)
        print_silver(f"{dataset_name}: {len(pages)} pages, repeat {args.repeat}", summaries)
    else:
        print_table(f"{dataset_name}: {len(pages)} pages, repeat {args.repeat}", summaries, modes)
    output = args.output or REPO / "bench" / "results" / f"extract-{dataset_name}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dataset": dataset_name, "format": fmt, "pages": len(pages), "repeat": args.repeat, "results": summaries}
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
