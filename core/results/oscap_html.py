"""OpenSCAP's own HTML report made safe to open: oscap copies the XHTML of rule descriptions
(and whatever a hostile results file put there) into it, so a report could carry live
<script>, javascript: links, on* handlers and iframes.

The body goes through nh3 (the Ammonia sanitiser) with a list of plain tags and attributes:
no scripts, no event handlers, no frames or forms, links only to http(s) and in-page anchors,
inline styles only for the layout properties oscap uses. The head is rebuilt from oscap's own
stylesheets (its template, before any rule text) with a Content-Security-Policy that forbids
scripts and any network access, a second wall should the sanitiser miss something. The
report's filter and search buttons need its scripts, so they do nothing; every rule and result
still shows.
"""

from __future__ import annotations

import html
import re

import nh3

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr", "nav", "section", "header",
    "footer", "article", "label",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "style", "role", "lang", "dir"},
    "a": {"href", "name"},
    "td": {"colspan", "rowspan", "headers", "abbr"},
    "th": {"colspan", "rowspan", "scope", "headers", "abbr"},
    "col": {"span"}, "colgroup": {"span"},
}
_STYLE_PROPERTIES = {"text-align", "padding-left", "width", "float", "margin-left"}
_HEAD_END = re.compile(r"</head\s*>", re.I)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style\s*>", re.I | re.S)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_BODY = re.compile(r"<body[^>]*>(.*)</body\s*>", re.I | re.S)


def sanitise(document: str) -> str:
    """oscap's report, rebuilt with a safe head and a sanitised body."""
    end = _HEAD_END.search(document)
    head, rest = (document[:end.start()], document[end.end():]) if end else ("", document)
    title = _TITLE.search(head)
    styles = "\n".join(m.group(1).replace("</", "<\\/") for m in _STYLE.finditer(head))
    body_match = _BODY.search(rest)
    body = nh3.clean(
        body_match.group(1) if body_match else rest,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties=_STYLE_PROPERTIES,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template",
                            "textarea", "select", "svg", "math"},
    )
    title_text = html.escape(html.unescape(title.group(1)), quote=False) if title else "OpenSCAP report"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{title_text}</title><style>{styles}</style></head>"
        f"<body>{body}</body></html>\n"
    )
