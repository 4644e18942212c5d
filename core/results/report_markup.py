"""Safe HTML elements from the light Markdown of core.xccdf, and the report's stylesheet.

The Markdown subset: paragraphs split by blank lines (a single newline is a line
break), ``` or ~~~ fenced code blocks, `inline code`, "- " list items nested by two
spaces, **bold**, *em* and [text](href). Text always lands in element text or tails,
so lxml escapes it; a link keeps its href only when it is http(s).
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import builder as E

from core.domain.text import neutralise

_FENCE = re.compile(r"^(```|~~~)\s*$")
_ITEM = re.compile(r"^( *)- (.*)$")
_INLINE = re.compile(
    r"``\s(?P<code2>.+?)\s``"
    r"|`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]*)\]\((?P<href>[^)\s]*)\)"
    r"|\*\*(?P<bold>[^*]+?)\*\*"
    r"|(?<![\w*])\*(?P<em>\w[^*\n]*?)\*(?![\w*])"
)
_WEB_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
# Characters XML 1.0 cannot carry; lxml refuses them, so they become U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    """Any text as something lxml accepts as element text (it does the escaping), with control
    characters shown visibly as in the terminal (a report may be read with `less`)."""
    return _NOT_XML.sub("\ufffd", neutralise("" if text is None else str(text)))


def markdown(text: str) -> list[etree._Element]:
    """Block elements (p, pre, ul) for one rule text."""
    lines = clean(text).splitlines()
    blocks: list[etree._Element] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            blocks.append(_paragraph(paragraph))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence[1]),
                       len(lines))
            blocks.append(E.PRE(E.CODE("\n".join(lines[i + 1:end]))))
            i = end + 1
        elif _ITEM.match(line):
            flush()
            end = i
            while end < len(lines) and _ITEM.match(lines[end]):
                end += 1
            blocks.append(_list(lines[i:end]))
            i = end
        elif not line.strip():
            flush()
            i += 1
        else:
            paragraph.append(line.strip())
            i += 1
    flush()
    return blocks


def _paragraph(lines: list[str]) -> etree._Element:
    p = E.P()
    for n, line in enumerate(lines):
        if n:
            p.append(E.BR())
        inline(p, line)
    return p


def _list(lines: list[str]) -> etree._Element:
    """Nested <ul> from "- " items indented by two spaces per level."""
    root = E.UL()
    stack = [(0, root)]
    for line in lines:
        match = _ITEM.match(line)
        assert match is not None  # the caller gives item lines only
        depth = len(match[1]) // 2
        while len(stack) > 1 and stack[-1][0] > depth:
            stack.pop()
        if depth > stack[-1][0] and len(stack[-1][1]):
            nested = E.UL()
            stack[-1][1][-1].append(nested)
            stack.append((depth, nested))
        item = E.LI()
        inline(item, match[2])
        stack[-1][1].append(item)
    return root


def inline(parent: etree._Element, text: str) -> None:
    """Append text with inline markup (code, links, bold, em) to an element."""
    at = 0
    for match in _INLINE.finditer(text):
        _append_text(parent, text[at:match.start()])
        parent.append(_inline_element(match))
        at = match.end()
    _append_text(parent, text[at:])


def _inline_element(match: re.Match[str]) -> etree._Element:
    if match["code2"] is not None or match["code"] is not None:
        return E.CODE(match["code2"] if match["code2"] is not None else match["code"])
    if match["href"] is not None:
        return _link(match["label"], match["href"])
    element = E.STRONG() if match["bold"] is not None else E.EM()
    inline(element, match["bold"] if match["bold"] is not None else match["em"])
    return element


def _link(label: str, href: str) -> etree._Element:
    if _WEB_LINK.match(href):
        element = E.A(href=href, rel="noopener noreferrer")
        inline(element, label or href)
        return element
    element = E.SPAN()  # not a web address: shown, never followed
    inline(element, label)
    _append_text(element, f" ({href})" if label else href)
    return element


def _append_text(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --green: #1a7f37; --green-bg: #dafbe1; --yellow: #7d4e00; --yellow-bg: #fff8c5;
  --red: #b3261e; --red-bg: #ffebe9; --blue-bg: #ddf4ff; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); max-width: 72rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; } h1 .host { font-family: ui-monospace, monospace; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .3rem; } h4 { font-size: .9rem; margin: 1rem 0 .3rem;
  text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.sub, .hint, footer { color: var(--muted); } footer { margin-top: 3rem; font-size: .85rem; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85em; }
code { background: var(--soft); padding: .1em .3em; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem;
  overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre code { background: none; padding: 0; font-size: 1em; }
.banner { padding: .7rem 1rem; border-radius: 6px; margin: 1rem 0; border: 1px solid; }
.notice { background: var(--yellow-bg); border-color: #d4a72c; }
.error { background: var(--red-bg); border-color: #ff8182; }
.summary { display: flex; gap: 1.5rem; align-items: flex-start; }
.score { flex: 0 0 13rem; text-align: center; border-radius: 10px; padding: 1rem; border: 2px solid; }
.score .value { font-size: 2.6rem; font-weight: 700; line-height: 1.1; }
.score .label { font-size: .85rem; font-weight: 600; }
.score .band { font-size: 1.05rem; font-weight: 700; text-transform: uppercase; letter-spacing: .05em; }
.band-green { color: var(--green); background: var(--green-bg); border-color: var(--green); }
.band-yellow { color: var(--yellow); background: var(--yellow-bg); border-color: #d4a72c; }
.band-red { color: var(--red); background: var(--red-bg); border-color: var(--red); }
.band-none { color: var(--muted); background: var(--soft); border-color: var(--line); }
.prose p { margin: 0 0 .5rem; }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; list-style: none; padding: 0; margin: 1rem 0 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .4rem .9rem; min-width: 7rem; }
.card .n { display: block; font-size: 1.4rem; font-weight: 700; }
.card.r-pass .n { color: var(--green); } .card.r-fail .n, .card.r-error .n { color: var(--red); }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--soft); } tfoot th, tfoot td { font-weight: 700; }
table.details th { width: 11rem; color: var(--muted); font-weight: 600; }
table.details td { overflow-wrap: anywhere; }
table.grid { width: auto; } table.grid td { text-align: right; min-width: 5rem; }
table.compact td { padding: .2rem .6rem; }
td.rid code { background: none; padding: 0; color: var(--muted); }
.sev { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 999px;
  padding: 0 .5rem; font-size: .8rem; font-weight: 600; border: 1px solid var(--line); }
.sev.sev-high { background: var(--red-bg); color: var(--red); border-color: var(--red); }
.sev.sev-medium { background: var(--yellow-bg); color: var(--yellow); border-color: #d4a72c; }
.sev.sev-low { background: var(--blue-bg); color: #0a3069; border-color: #54aeff; }
.res.r-fail, .res.r-error { color: var(--red); font-weight: 600; } .res.r-pass { color: var(--green); }
.ctl { font-weight: 600; } .ctl-met { color: var(--green); } .ctl-not-met { color: var(--red); }
.ctl-partly { color: var(--yellow); }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 6px;
  padding: .9rem 1.1rem; margin: 1rem 0; }
.finding.sev-high { border-left-color: var(--red); } .finding.sev-medium { border-left-color: #d4a72c; }
.finding.sev-low { border-left-color: #54aeff; }
.finding .meta { margin: 0 0 .5rem; color: var(--muted); }
@media (max-width: 700px) { .summary { flex-direction: column; } .score { flex: none; width: 100%; } }
@media print {
  @page { margin: 1.2cm; }
  body { font-size: 9pt; max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { margin-top: 1.2rem; } h2, h3, h4, .meta { break-after: avoid; }
  .summary, .cards, tr { break-inside: avoid; }
  .finding { padding: .5rem .8rem; margin: .6rem 0; }
  pre { font-size: 7.5pt; padding: .4rem .6rem; white-space: pre-wrap; overflow: visible; }
  table { font-size: 8pt; } th, td { padding: .15rem .4rem; }
  a { color: inherit; text-decoration: none; }
  .finding a[href^="http"]::after { content: " (" attr(href) ")"; font-size: .85em; }
}
"""
