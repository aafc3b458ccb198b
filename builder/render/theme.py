"""What the default theme derives from the page context: filters for its templates and the topic cover.

Filters are plain functions of strings and config values (no state), so templates of any theme may
use them: ``banner_variant`` (a stable pattern for the generated 头图), ``public_tags`` (tags minus
the topic's internal ones) and ``gallery`` (runs of photos with captions → a grid of figures that
the lightbox opens).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from builder.errors import ContentError
from builder.i18n import tr

BANNER_VARIANTS = 4

# A photo alone in its block (the Markdown renderer wraps it in <div class="media">), optionally
# followed by the paragraph that describes it.
_MEDIA_PHOTO = re.compile(
    r'<div class="media">\s*(?P<pic><picture\b[^>]*>.*?</picture>)\s*</div>'
    r'(?:\s*<p>(?P<cap>(?:(?!</p>|<picture|<video).)*)</p>)?', re.S)
_MEDIA_VIDEO = re.compile(r'<div class="media">\s*(?P<video><video\b[^>]*>.*?</video>)\s*</div>', re.S)
_IMG_SRCSET = re.compile(r'<img\b[^>]*\bsrcset="([^"]*)"')
_IMG_SRC = re.compile(r'<img\b[^>]*\bsrc="([^"]*)"')
_IMG_ALT = re.compile(r'<img\b[^>]*\balt="([^"]*)"')
_ARIA_LABEL = re.compile(r'<video\b[^>]*\baria-label="([^"]*)"')
_CREDIT = re.compile(r'<picture\b[^>]*\bdata-credit="([^"]*)"')
_TAGS = re.compile(r"<[^>]+>")
_IMG_ALT_ATTR = re.compile(r' alt="[^"]*"')
_SIZES = re.compile(r'sizes="[^"]*"')
# Grid cells are at most ~300 px wide: a phone's full width, else one cell.
GRID_SIZES = "(max-width: 600px) 100vw, 320px"


def banner_variant(title: str) -> int:
    """A stable choice among the generated banner patterns, so topics do not all look alike."""
    return zlib.crc32(str(title).encode("utf-8")) % BANNER_VARIANTS


def internal_tags(topic: Any) -> set[str]:
    cfg = getattr(topic, "config", None)
    return set(getattr(cfg, "internal_tags", None) or [])


def public_tags(tags: Iterable[str] | None, topic: Any = None) -> list[str]:
    """Tags a reader may see: the topic's ``internal_tags`` (topic.toml) are for staff only."""
    hidden = internal_tags(topic)
    return [t for t in (tags or []) if t not in hidden]


def _largest(picture: str) -> str:
    """URL of the widest rendition named in the <img>'s srcset (the src when there is none)."""
    m = _IMG_SRCSET.search(picture)
    if m:
        best = max((c.strip().rsplit(" ", 1) for c in m.group(1).split(",") if c.strip()),
                   key=lambda c: int(c[1].rstrip("w")) if len(c) == 2 and c[1].rstrip("w").isdigit() else 0)
        return best[0]
    m = _IMG_SRC.search(picture)
    return m.group(1) if m else ""


def _figure(m: re.Match) -> str:
    picture, caption = m.group("pic"), (m.group("cap") or "").strip()
    alt = _IMG_ALT.search(picture)
    title = alt.group(1) if alt else ""
    text = caption or title
    plain = _TAGS.sub("", caption) if caption else ""
    label = escape(Markup(title).unescape() or Markup(plain).unescape())
    credit = _CREDIT.search(picture)
    if credit:
        text = f'{text}<span class="media-credit">摄影：{credit.group(1)}</span>'
    figcaption = f"<figcaption>{text}</figcaption>" if text else ""
    picture = _SIZES.sub(f'sizes="{GRID_SIZES}"', picture)
    return (f'<figure class="gallery-item"><a class="gallery-link" href="{_largest(picture)}" data-lightbox '
            f'aria-label="查看大图：{label}">{picture}</a>{figcaption}</figure>')


def gallery(html: str) -> Markup:
    """Runs of two or more photos (each optionally followed by its caption paragraph) become a
    grid of <figure>s whose links open the largest rendition (the lightbox in gallery.js, or the
    image itself without JavaScript). A lone video gets its title as a visible caption, because
    the player's controls cover the bottom of the poster."""
    html = str(html or "")
    if 'class="media"' not in html:
        return Markup(html)
    out: list[str] = []
    pos = 0
    run: list[re.Match] = []

    def flush() -> None:
        if len(run) >= 2:
            out.append('<div class="gallery-grid">' + "".join(_figure(m) for m in run) + "</div>")
        else:
            out.extend(m.group(0) for m in run)
        run.clear()

    for m in _MEDIA_PHOTO.finditer(html):
        gap = html[pos:m.start()]
        if gap.strip():
            flush()
            out.append(gap)
        run.append(m)
        pos = m.end()
    flush()
    out.append(html[pos:])
    result = "".join(out)

    def video_caption(m: re.Match) -> str:
        label = _ARIA_LABEL.search(m.group("video"))
        cap = f'<figcaption class="media-caption">{label.group(1)}</figcaption>' if label else ""
        portrait = ' media-portrait' if _portrait(m.group("video")) else ""
        return f'<figure class="media media-video{portrait}">{m.group("video")}{cap}</figure>'

    return Markup(_MEDIA_VIDEO.sub(video_caption, result))


_WIDTH = re.compile(r'\bwidth="(\d+)"')
_HEIGHT = re.compile(r'\bheight="(\d+)"')


def _portrait(tag: str) -> bool:
    head = tag.split(">", 1)[0]
    w, h = _WIDTH.search(head), _HEIGHT.search(head)
    return bool(w and h and int(h.group(1)) > int(w.group(1)))


_NOT_A_DIGIT = re.compile(r"[^0-9]")


def digits(value: Any) -> str:
    """The ASCII digits of a value: 公安备案号 "京公网安备 11000000000000号" → the record code its
    link takes (one regex; the same chain of Jinja2 filters cost 3 % of every page's render)."""
    return _NOT_A_DIGIT.sub("", str(value))


THEME_FILTERS = {"banner_variant": banner_variant, "public_tags": public_tags, "internal_tags": internal_tags,
                 "gallery": gallery, "digits": digits}


def cover_html(renderer: Any, topic: Any, page: Any, page_url: str, recorded: dict, url_to) -> Markup:
    """The topic's 头图 from topic.toml ``cover`` (a photo beside topic.toml or in its folders):
    a responsive <picture> through the media pipeline. A cover that does not exist fails the build
    (reported once, by the navigation page)."""
    name = getattr(getattr(topic, "config", None), "cover", "") if topic else ""
    if not name:
        return Markup("")
    root = renderer.cfg.root
    path = (topic.dir / name)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else name
    if not path.is_file() or not path.resolve().is_relative_to(topic.dir.resolve()):
        if page.kind == "nav":
            raise ContentError(tr("封面图（头图）“{c}” 不存在", "the cover image '{c}' does not exist", c=name),
                               topic.dir / "topic.toml", field="cover",
                               hint=tr("请把图片放在专题目录中，cover 写相对 topic.toml 的路径，例如 cover = \"images/cover.jpg\"。",
                                       "put the image in the topic folder and give its path relative to topic.toml, "
                                       "e.g. cover = \"images/cover.jpg\"."))
        return Markup("")
    media = renderer.media_html
    if media is not None and rel in renderer.media_sources:
        recorded["media:" + rel] = media.key(rel)
        entry = (getattr(media, "entries", None) or {}).get(rel)
        # The banner spans the window and is the first thing seen: full-width sizes, loaded at once.
        html = entry.page_html("", page_url, sizes="100vw") if entry is not None else media(rel, "", page_url)
        if html:
            # Decorative next to the topic's title: no alt text (the media step falls back to the sidecar's title).
            html = _IMG_ALT_ATTR.sub(' alt=""', html.replace(' loading="lazy"', ' fetchpriority="high"'), count=1)
            return Markup(html)
    if rel in renderer.assets:
        return Markup(f'<img src="{escape(url_to(renderer.assets[rel]))}" alt="">')
    return Markup("")
