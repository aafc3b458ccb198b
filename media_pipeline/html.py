"""The HTML a photo or video becomes in a page: <picture> with WebP and srcset, <video> with sources.

``url_prefix`` is how the page reaches the folder the renditions are published in (e.g. ``""``
beside the page, ``"../images/"``); it is used as given, so it must already be a URL. Text in the
generated markup is in the site's language (Chinese), not the command line's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import escape

if TYPE_CHECKING:
    from media_pipeline.library import ImageEntry, VideoEntry

DEFAULT_SIZES = "(max-width: 960px) 100vw, 960px"
HLS_TYPE = "application/x-mpegURL"


def _url(prefix: str, name: str) -> str:
    # quote() also encodes ',' and ' ', which would break a srcset list.
    return prefix + quote(name, safe="/")


def _attrs(**values: object) -> str:
    """Attributes in the given order; True → bare attribute, None/False → left out, all escaped."""
    out = []
    for name, value in values.items():
        name = name.rstrip("_").replace("_", "-")
        if value is None or value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{escape(str(value))}"')
    return "".join(out)


def image_html(entry: ImageEntry, alt: str, url_prefix: str, sizes: str = DEFAULT_SIZES,
               src_width: int = 960) -> str:
    """``<picture>``: a WebP ``<source>`` and an ``<img>`` in the original format with srcset,
    width/height (no layout shift), lazy loading and async decoding."""
    fallback = entry.outputs.fallback
    webp = entry.outputs.webp

    def srcset(renditions: list) -> str:
        return ", ".join(f"{_url(url_prefix, entry.name(r))} {r.width}w" for r in renditions)

    src = next((r for r in fallback if r.width >= src_width), fallback[-1])
    # The photographer named in the sidecar travels with the photo (themes print it as 摄影：…).
    credit = entry.sidecar.photographer if getattr(entry, "sidecar", None) else ""
    parts = [f"<picture{_attrs(data_credit=credit or None)}>"]
    if webp:
        parts.append(f"<source{_attrs(type='image/webp', srcset=srcset(webp), sizes=sizes)}>")
    parts.append(f"<img{_attrs(src=_url(url_prefix, entry.name(src)), srcset=srcset(fallback), sizes=sizes, width=src.width, height=src.height, alt=alt, loading='lazy', decoding='async')}>")
    parts.append("</picture>")
    return "".join(parts)


def video_html(entry: VideoEntry, alt: str, url_prefix: str) -> str:
    """``<video controls preload="metadata">`` with HLS first (when made), the MP4 ladder from the
    best down, Chinese captions when present, and a download link for browsers without video."""
    out = entry.outputs
    top = out.renditions[0]
    parts = [f"<video{_attrs(controls=True, preload='metadata', poster=_url(url_prefix, entry.name(out.poster_jpg.as_posix())), width=top.width, height=top.height, playsinline=True, aria_label=alt or None)}>"]
    if out.hls:
        parts.append(f"<source{_attrs(src=_url(url_prefix, entry.name(out.hls.as_posix())), type=HLS_TYPE)}>")
    for r in out.renditions:
        parts.append(f"<source{_attrs(src=_url(url_prefix, entry.name(r.path.as_posix())), type='video/mp4')}>")
    if out.captions:
        parts.append(f"<track{_attrs(kind='captions', srclang='zh', label='中文', src=_url(url_prefix, entry.name(out.captions.as_posix())), default=True)}>")
    download = _url(url_prefix, entry.name(top.path.as_posix()))
    # Fallback as phrasing content (no <p>): the video may sit inside a paragraph.
    parts.append(f'您的浏览器不支持播放视频，请<a{_attrs(href=download, download=True)}>下载视频（MP4，{escape(top.label)}）</a>观看。')
    parts.append("</video>")
    return "".join(parts)
