"""PDF from a sheet's HTML: WeasyPrint, in parallel page groups for long documents.

WeasyPrint lays out about three pages a second and slows down as one document grows, so a
whole-course sheet (hundreds of pages) is cut at its `<section class="page">` boundaries into
groups that are laid out in separate processes and joined with pikepdf. Each group is a complete
document with the same head; its page numbers start where the previous group ended and its
"of N" is the total, so the joined PDF reads as one. The structure tree (PDF/UA tags), the
document metadata and a content-derived identifier are carried over, and every font subset gets
a tag of its own group, so the result is one tagged, reproducible document.

Short documents (most sheets) are rendered in one piece, as before.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager

from regimens.errors import RegimensError

GROUP_PAGES = 40
"""Most sections in a group: WeasyPrint stays near its per-page speed up to this size (measured
on the whole NCT02877303 nurse sheet, 129 sections in one process: 22.8 s of CPU in groups of 8,
22.8 s in groups of 65), and each group costs a document's set-up (about 0.45 s)."""
GROUP_MULTIPLE = 4
"""The number of groups is a multiple of this, so that 2 or 4 workers get equal shares; it does
not depend on the number of workers, so neither do the bytes."""
PARALLEL_FROM = 24
"""Documents with fewer sections than this are rendered in one piece."""

_SECTION = re.compile(r"(?=<section class=\"page)")
_TOTAL = 'counter(pages)'

PANGO_HELP = {
    "linux": "install Pango (Debian/Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0; "
             "Fedora: dnf install pango)",
    "darwin": "install Pango: brew install pango",
    "win32": "install GTK3 for Windows (github.com/tschoonj/GTK-for-Windows-Runtime-Environment-Installer) "
             "and, if it is not found, set WEASYPRINT_DLL_DIRECTORIES to its bin folder",
}


def _weasyprint():
    """WeasyPrint, or one line naming the system library to install."""
    try:
        import weasyprint
    except ImportError:
        raise RegimensError("PDF output needs WeasyPrint, which is missing from this installation: "
                            "pip install regimens again (or use --format html)") from None
    except OSError as exc:  # WeasyPrint is there, the Pango library it loads is not
        missing = re.search(r"library '([^']+)'", str(exc))
        what = f"the system library {missing.group(1)} is missing" if missing else "Pango cannot be loaded"
        help_ = PANGO_HELP.get(sys.platform, PANGO_HELP["linux"])
        raise RegimensError(f"PDF output needs Pango: {what}; {help_} (or use --format html)") from None
    return weasyprint


def check_available() -> None:
    """Raise the one-line error now if PDF output cannot work (before any long work)."""
    _weasyprint()


def _no_fetch(url: str, *args, **kwargs):
    # The sheet is self-contained; refusing every fetch keeps a stray URL in user text inert.
    raise ValueError(f"sheets load no external resources ({url})")


def _identifier(html: str) -> bytes:
    # A fixed identifier derived from the content keeps the bytes reproducible.
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")


_CREATED = re.compile(r'<meta name="dcterms.created" content="(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z">')


@contextmanager
def font_clock(html: str):
    """Fonts are stamped with the document's generation time, not the clock.

    WeasyPrint turns a variable font (one with an `fvar` table, as recent Noto and Cantarell
    releases are) into a static instance with fontTools and saves it; fontTools then writes the
    current time into the font's `head.modified` unless SOURCE_DATE_EPOCH is set. Two documents
    rendered a second apart thus differed in their embedded font bytes wherever a variable font
    was picked (the byte-identity test that failed on a fresh machine). For the layout only,
    SOURCE_DATE_EPOCH is the generation time the template carries."""
    m = _CREATED.search(html)
    if m is None:
        yield
        return
    from calendar import timegm

    epoch = str(timegm(tuple(int(x) for x in m.groups())))
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _render_one(html: str) -> tuple[bytes, int]:
    """(PDF bytes, page count) of one document."""
    weasyprint = _weasyprint()
    with font_clock(html):
        doc = weasyprint.HTML(string=html, base_url=None, url_fetcher=_no_fetch).render()
        data = doc.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=_identifier(html))
    return data, len(doc.pages)


def split_sections(html: str) -> tuple[str, list[str], str]:
    """(head up to the first page section, the sections, what follows the last one)."""
    parts = _SECTION.split(html)
    head, sections = parts[0], parts[1:]
    if not sections:
        return html, [], ""
    last = sections[-1]
    end = last.rfind("</section>") + len("</section>")
    sections[-1], tail = last[:end], last[end:]
    return head, sections, tail


def _group_html(head: str, sections: list[str], tail: str, first_page: int, total: int) -> str:
    numbering = f"<style>@page :first {{ counter-reset: page {first_page}; }}</style>"
    head = head.replace(_TOTAL, f'"{total}"').replace("</head>", numbering + "</head>", 1)
    return head + "".join(sections) + tail


def group_bounds(weights: list[int]) -> list[tuple[int, int]]:
    """(start, end) of each page group over sections of these weights (their HTML length, which
    follows their layout time): a multiple of GROUP_MULTIPLE groups of at most about GROUP_PAGES
    sections, cut where the running weight crosses an equal share, so that the workers finish
    together (equal section counts left one worker laying out a group alone at the end)."""
    n = len(weights)
    count = min(n, GROUP_MULTIPLE * -(-n // (GROUP_MULTIPLE * GROUP_PAGES)))
    total = sum(weights)
    bounds, start, run = [], 0, 0
    for i, w in enumerate(weights):
        run += w
        left = count - len(bounds) - 1  # groups still to cut after this one
        if left and (run * count >= total * (len(bounds) + 1) or n - (i + 1) == left):
            bounds.append((start, i + 1))
            start = i + 1
    bounds.append((start, n))
    return bounds


def render_pdf(html: str, jobs: int = 1, progress: Callable[[int, int], None] | None = None,
               pool=None) -> bytes:
    """Lay out the HTML with WeasyPrint as a tagged PDF/UA-1 document (accessible structure).

    The creation and modification dates come from the `dcterms.created/modified` meta elements
    the template writes from the generation time, so two runs give identical bytes (whatever
    `jobs` is). `progress(done, total)` is called as page groups finish. `pool` is workers from
    `start_workers` (already started while the HTML was made): they lay out every part, short
    documents too, and the calling process never loads WeasyPrint."""
    head, sections, tail = split_sections(html)
    if len(sections) < PARALLEL_FROM:
        data, _ = pool.submit(_render_one, html).result() if pool is not None else _render_one(html)
        if progress:
            progress(1, 1)
        return data
    if pool is None:
        _weasyprint()  # the one-line error before any process starts
    groups = [sections[a:b] for a, b in group_bounds([len(s) for s in sections])]
    counts = [len(g) for g in groups]  # a section is one page, unless it overflows
    for _attempt in range(2):
        firsts = [1 + sum(counts[:i]) for i in range(len(groups))]
        total = sum(counts)
        docs = [_group_html(head, g, tail, f, total) for g, f in zip(groups, firsts, strict=True)]
        rendered = _render_all(docs, jobs, progress, pool)
        actual = [n for _, n in rendered]
        if actual == counts:
            break
        counts = actual  # a section ran onto a second page: number again with the real counts
    return join([data for data, _ in rendered])


def _warm() -> None:
    _weasyprint()  # imported, or the one-line error, while the parent makes the HTML


def start_workers(jobs: int):
    """`jobs` worker processes, started now and loading WeasyPrint (0.6 s of CPU each) while the
    caller makes the HTML, for `render_pdf(..., pool=)`; a context manager (shut down on exit).
    `check(pool)` raises the one-line error if WeasyPrint cannot load."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked copy of a process that already initialised Pango/GLib can hang.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    pool.warming = [pool.submit(_warm) for _ in range(jobs)]  # one per worker: each is started
    return pool


def check(pool) -> None:
    """The workers' WeasyPrint loaded, or the one-line error (RegimensError) they raised."""
    for fut in pool.warming:
        fut.result()


def _render_all(docs: list[str], jobs: int, progress, pool=None) -> list[tuple[bytes, int]]:
    done = 0
    if pool is not None:
        return _collect(pool, docs, progress)
    if jobs <= 1:
        out = []
        for d in docs:
            out.append(_render_one(d))
            done += 1
            if progress:
                progress(done, len(docs))
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked copy of a process that already initialised Pango/GLib can hang.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(docs)), mp_context=ctx) as own:
        return _collect(own, docs, progress)


def _collect(pool, docs: list[str], progress) -> list[tuple[bytes, int]]:
    from concurrent.futures import as_completed

    results: list[tuple[bytes, int] | None] = [None] * len(docs)
    futures = {pool.submit(_render_one, d): i for i, d in enumerate(docs)}
    for done, fut in enumerate(as_completed(futures), 1):
        results[futures[fut]] = fut.result()
        if progress:
            progress(done, len(docs))
    return [r for r in results if r is not None]


def page_count(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def join(parts: list[bytes]) -> bytes:
    """One PDF from page groups (pikepdf, i.e. qpdf): pages in order, one structure tree, the
    first group's metadata, a font subset tag per group and an identifier computed from the
    content (so the bytes are reproducible)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    out = pikepdf.new()
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    nums = Array()
    offset = 0
    version = "1.7"
    retagged: set = set()
    sources = []  # kept open until saved: copied objects are read from them lazily
    for index, data in enumerate(parts):
        src = pikepdf.open(io.BytesIO(data))
        sources.append(src)
        if index == 0:
            version = src.pdf_version
            for key in ("/MarkInfo", "/Lang", "/ViewerPreferences", "/Metadata"):
                if key in src.Root:
                    out.Root[key] = _copy(out, src, src.Root[key])
            if "/Info" in src.trailer:
                out.trailer.Info = out.copy_foreign(src.trailer.Info)
        for page in src.pages:
            out.pages.append(page)
            added = out.pages[-1]
            if "/StructParents" in page.obj:
                added.obj.StructParents = int(page.obj.StructParents) + offset
            _retag_fonts(added, index, retagged)
        tree = src.Root.get("/StructTreeRoot")
        if tree is not None:
            kids = tree.K
            source_doc = kids[0] if isinstance(kids, Array) else kids
            for kid in source_doc.get("/K", Array()):
                copied = out.copy_foreign(kid)
                copied.P = document
                document.K.append(copied)
            parent_nums = tree.ParentTree.get("/Nums", Array())
            for i in range(0, len(parent_nums), 2):
                nums.append(int(parent_nums[i]) + offset)
                value = parent_nums[i + 1]
                if isinstance(value, Array):
                    nums.append(Array([_copy(out, src, v) for v in value]))
                else:
                    nums.append(_copy(out, src, value))
        offset += len(src.pages)
    tree_root = out.make_indirect(Dictionary(
        Type=Name.StructTreeRoot, K=Array([document]),
        ParentTree=out.make_indirect(Dictionary(Nums=nums)), ParentTreeNextKey=offset))
    document.P = tree_root
    out.Root.StructTreeRoot = tree_root
    buf = io.BytesIO()
    out.save(buf, deterministic_id=True, force_version=version,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    for src in sources:
        src.close()
    return buf.getvalue()


def _copy(out, src, value):
    """`value` of `src` as an object of `out` (qpdf copies only indirect objects across files)."""
    from pikepdf import Array, Dictionary, Stream

    if value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, Dictionary | Array | Stream):
        return out.copy_foreign(src.make_indirect(value))
    return value


def _retag_fonts(page, index: int, done: set) -> None:
    """Each group embeds its own subset of a font under the same six-letter tag; two subsets
    sharing a name can be confused by a viewer, so each group's tag is made its own."""
    from pikepdf import Name

    resources = page.obj.get("/Resources")
    fonts = resources.get("/Font") if resources is not None else None
    if fonts is None:
        return
    for font in fonts.values():
        holders = [(font, "/BaseFont")]
        for d in font.get("/DescendantFonts", []):
            holders.append((d, "/BaseFont"))
            if "/FontDescriptor" in d:
                holders.append((d.FontDescriptor, "/FontName"))
        for holder, key in holders:
            marker = (holder.objgen, key)
            if marker in done or key not in holder:
                continue
            done.add(marker)
            m = re.match(r"^/([A-Z]{6})\+(.*)$", str(holder[key]))
            if m:
                holder[key] = Name(f"/{_tag(m.group(1), index)}+{m.group(2)}")


def _tag(tag: str, index: int) -> str:
    if index == 0:
        return tag
    digest = hashlib.sha256(f"{tag}:{index}".encode()).digest()
    return "".join(chr(65 + b % 26) for b in digest[:6])
