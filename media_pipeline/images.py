"""Make the web renditions of one photo: a width ladder in the original format plus WebP.

Every output is upright (EXIF orientation applied), in sRGB, 8-bit, and carries no metadata at
all (no EXIF/GPS, XMP, IPTC, comments or ICC profile). Caching and scheduling live elsewhere.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageMath, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from media_pipeline import check_source_file
from media_pipeline.errors import MediaError
from media_pipeline.i18n import tr

# HEIF/HEIC (the iPhone's default) through pillow-heif; Pillow reads AVIF itself.
register_heif_opener()

# Bump when the same source and parameters would give different output bytes.
IMAGE_PIPELINE_VERSION = 2  # 2: PNG colour keys (tRNS) kept as transparency
# Formats recognised by content (never by extension) when deciding whether a file is a photo
# (an MPO opens as JPEG).
PHOTO_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF", "HEIF")
# Keys of Image.info that carry metadata about the picture rather than the picture itself.
_METADATA_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "photoshop", "iptc", "comment", "adobe", "Comment"}

# Source formats whose fallback keeps the format; everything else (WebP, TIFF, BMP) becomes JPEG
# when opaque and PNG when it has real transparency, so the fallback never has to flatten alpha.
# A GIF becomes a PNG of its first frame (an animated GIF is better published as a video).
_KEEP_JPEG = {"JPEG", "MPO"}
_KEEP_PNG = {"PNG", "GIF"}
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90°
_ORIENTATION = 0x0112
_SRGB_NAMES = ("srgb", "iec61966-2.1", "iec 61966-2-1")


@dataclass(frozen=True)
class ImageParams:
    """Everything that decides the output bytes; ``key()`` is what the cache keys on."""

    widths: tuple[int, ...] = (480, 960, 1600)
    jpeg_quality: int = 85
    webp_quality: int = 80
    max_pixels: int = 120_000_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(sorted({int(w) for w in self.widths if int(w) > 0})))

    @classmethod
    def from_config(cls, media: Any) -> ImageParams:
        """From ``MediaSettings`` (the site's ``[media]``)."""
        return cls(widths=tuple(media.image_widths), jpeg_quality=media.jpeg_quality,
                   webp_quality=media.webp_quality, max_pixels=media.max_image_pixels)

    def key(self) -> str:
        # max_pixels decides only whether a file is accepted, not the bytes: left out on purpose.
        widths = ",".join(str(w) for w in self.widths)
        return f"image-v{IMAGE_PIPELINE_VERSION};widths={widths};jpeg={self.jpeg_quality};webp={self.webp_quality}"


@dataclass(frozen=True)
class ImageRendition:
    """One output file; ``file`` is a name inside the output folder."""

    file: str
    width: int
    height: int
    format: str  # "jpeg" | "png" | "webp"
    bytes: int

    @property
    def mime(self) -> str:
        return "image/" + self.format


@dataclass(frozen=True)
class ImageOutputs:
    """What ``process_image`` wrote. ``width``/``height`` are the upright source size."""

    width: int
    height: int
    format: str  # format of the fallback renditions: "jpeg" or "png"
    has_alpha: bool
    animated: bool = False  # an animated GIF: only its first frame is published
    renditions: tuple[ImageRendition, ...] = field(default_factory=tuple)

    def of_format(self, fmt: str) -> list[ImageRendition]:
        """Renditions in ``fmt``, narrowest first."""
        return sorted((r for r in self.renditions if r.format == fmt), key=lambda r: r.width)

    @property
    def fallback(self) -> list[ImageRendition]:
        return self.of_format(self.format)

    @property
    def webp(self) -> list[ImageRendition]:
        return self.of_format("webp")

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "format": self.format, "has_alpha": self.has_alpha,
                "animated": self.animated,
                "renditions": [{"file": r.file, "width": r.width, "height": r.height, "format": r.format,
                                "bytes": r.bytes} for r in self.renditions]}

    @classmethod
    def from_dict(cls, data: dict) -> ImageOutputs:
        return cls(width=data["width"], height=data["height"], format=data["format"], has_alpha=data["has_alpha"],
                   animated=data.get("animated", False),
                   renditions=tuple(ImageRendition(**r) for r in data["renditions"]))


def ladder(source_width: int, widths: tuple[int, ...]) -> list[int]:
    """Widths to make: the ladder's rungs up to the source; the source width itself when it is
    narrower than the top rung (an image is never enlarged)."""
    out = [w for w in widths if w <= source_width]
    if widths and source_width < widths[-1] and source_width not in out:
        out.append(source_width)
    return out or [source_width]


def process_image(src: Path, out_dir: Path, params: ImageParams, stem: str | None = None) -> ImageOutputs:
    """Write ``<stem>-<w>.<jpg|png>`` and ``<stem>-<w>.webp`` for every width into ``out_dir``."""
    src = Path(src)
    out_dir = Path(out_dir)
    stem = stem or src.stem
    im, fmt, animated = _open(src, params)
    with im:
        orientation = _orientation(im)
        raw_w, raw_h = im.size
        width, height = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
        widths = ladder(width, params.widths)
        if fmt in _KEEP_JPEG:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the largest rung allows it.
            scale = max(widths) / width
            im.draft(im.mode, (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))
        try:
            im.load()
            work = _to_srgb(ImageOps.exif_transpose(im) if orientation != 1 else im)
            if work is im:
                work = im.copy()
        except (OSError, SyntaxError, ValueError) as exc:
            raise _corrupt(src, exc) from exc
    # Pillow copies some of im.info (comment, ICC profile, transparency…) into a saved file when
    # the save call does not override them: an empty info keeps everything of the source out.
    work.info = {}
    has_alpha = work.mode in ("RGBA", "LA") and work.getchannel("A").getextrema()[0] < 255
    if work.mode in ("RGBA", "LA") and not has_alpha:
        work = work.convert("RGB" if work.mode == "RGBA" else "L")
    if fmt in _KEEP_JPEG:
        out_fmt = "jpeg"
    elif fmt in _KEEP_PNG:
        out_fmt = "png"
    else:
        out_fmt = "png" if has_alpha else "jpeg"
    out_dir.mkdir(parents=True, exist_ok=True)
    renditions: list[ImageRendition] = []
    frame = work
    for w in sorted(widths, reverse=True):
        h = max(1, round(w * height / width))
        if frame.size != (w, h):
            # Each rung is made from the next larger one: cheaper, and Lanczos keeps it sharp.
            frame = frame.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        renditions.append(_save(frame, out_dir / f"{stem}-{w}.{'jpg' if out_fmt == 'jpeg' else 'png'}", out_fmt, params))
        renditions.append(_save(frame, out_dir / f"{stem}-{w}.webp", "webp", params))
    renditions.sort(key=lambda r: (r.format, r.width))
    return ImageOutputs(width, height, out_fmt, has_alpha, animated, tuple(renditions))


def read_size(src: Path, params: ImageParams) -> tuple[int, int]:
    """Upright width and height from the file header only (for the catalog of unprocessed files)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said, naming the file, when the photo is processed
        im, _, _ = _open(src, params)
    with im:
        w, h = im.size
        return (h, w) if _orientation(im) in _SWAPS_AXES else (w, h)


# ---------------------------------------------------------------- reading

def _open(src: Path, params: ImageParams) -> tuple[Image.Image, str, bool]:
    check_source_file(src, "photo")
    # Pillow's decompression-bomb guard reads this module attribute; the site sets the limit.
    # (Photos run one per process; should threads ever share it, the explicit pixel check below
    # still refuses every image over the limit, whatever the warnings filter is at that moment.)
    Image.MAX_IMAGE_PIXELS = params.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src)
            try:
                fmt = im.format or ""
                animated = bool(getattr(im, "is_animated", False))
            except BaseException:
                im.close()
                raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        m = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(src, int(m.group(1)) if m else None, params) from None
    except UnidentifiedImageError:
        raise MediaError(tr("不是图片，或是不支持的图片格式", "not an image, or an unsupported image format"), src,
                         hint=tr("请用 JPEG 或 PNG 格式重新导出；文件扩展名要与实际格式一致。",
                                 "export it again as JPEG or PNG; the file extension must match the format.")) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(src, exc) from exc
    w, h = im.size
    if w < 1 or h < 1:
        im.close()
        raise MediaError(tr("图片尺寸为 0", "the image has no pixels"), src)
    if w * h > params.max_pixels:
        im.close()
        raise _too_large(src, w * h, params, (w, h))
    return im, fmt, animated


def _too_large(src: Path, pixels: int | None, params: ImageParams, size: tuple[int, int] | None = None) -> MediaError:
    dims = f"{size[0]}×{size[1]}, " if size else ""
    count = f"{pixels / 1e6:.0f}" if pixels else "?"
    return MediaError(
        tr("图片像素过多（{d}{n} 百万像素，上限 {m} 百万像素），可能是解压炸弹",
           "too many pixels ({d}{n} megapixels, limit {m}): possibly a decompression bomb",
           d=dims, n=count, m=f"{params.max_pixels / 1e6:.0f}"),
        src, hint=tr("请缩小图片后再放入；确需更大的图片，可在 site.toml 的 [media] max_image_pixels 中调高上限。",
                     "shrink the photo; if it really must be larger, raise [media] max_image_pixels in site.toml."))


# Pillow's reasons (English) and what they mean for the editor, in the user's language.
_REASONS = (
    (re.compile(r"truncated", re.I), "文件不完整（在中途被截断）", "the file is incomplete (cut off part way)"),
    (re.compile(r"broken data stream|decoder error|unrecognized data stream|invalid|corrupt", re.I),
     "图像数据已损坏，无法解码", "the image data is damaged and cannot be decoded"),
    (re.compile(r"not enough data|premature end|unexpected end", re.I),
     "图像数据提前结束", "the image data ends early"),
)
_WARNINGS = (
    (re.compile(r"exif|\btag\b|ifd", re.I), "EXIF 元数据损坏，已忽略（拍摄方向可能未能自动校正）",
     "the EXIF metadata is damaged and was ignored (the photo may not have been turned upright)"),
    (re.compile(r"transparency", re.I), "调色板透明度已按 RGBA 处理", "the palette transparency was handled as RGBA"),
    (re.compile(r"truncated|incomplete", re.I), "文件末尾不完整，已按能读出的部分处理",
     "the end of the file is incomplete; what could be read was used"),
    (re.compile(r"MPO|multi", re.I), "多帧图片，只使用第一帧", "a multi-frame image: the first frame was used"),
)


def reason_text(exc: BaseException | str) -> str:
    """Pillow's reason in the user's language (its own words kept only in English mode)."""
    text = str(exc)
    for pattern, zh, en in _REASONS:
        if pattern.search(text):
            return tr(zh, en + f" ({text})")
    return tr("无法读取的图像数据", "unreadable image data ({e})", e=text)


def warning_text(message: str) -> str:
    """A Pillow warning as a sentence for the editor, in the user's language."""
    for pattern, zh, en in _WARNINGS:
        if pattern.search(message):
            return tr(zh, en)
    return tr("图片处理时出现警告，输出可能与原图略有不同", "a warning while processing ({m}); check the result",
              m=message)


def _corrupt(src: Path, exc: BaseException) -> MediaError:
    return MediaError(tr("图片文件已损坏或不完整：{e}", "the image file is damaged or incomplete: {e}", e=reason_text(exc)),
                      src, hint=tr("请重新复制或导出该图片。", "copy or export the photo again."))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the photo: treat as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# ---------------------------------------------------------------- colour

def _to_srgb(im: Image.Image) -> Image.Image:
    """8-bit L, LA, RGB or RGBA in sRGB; the embedded ICC profile (if any) is applied, then dropped."""
    icc = im.info.get("icc_profile")
    if im.info.get("transparency") is not None and im.mode in ("L", "RGB", "I", "I;16", "I;16B", "I;16L"):
        im = _colour_key(im, im.info["transparency"])
    mode = im.mode
    if mode == "1":
        im = im.convert("L")
    elif mode == "P" or mode == "PA":
        im = im.convert("RGBA" if ("transparency" in im.info or mode == "PA") else "RGB")
    elif mode.startswith("I;16") or mode in ("I", "F"):
        im = _to_8bit_gray(im)
    elif mode == "LAB":
        lab = ImageCms.createProfile("LAB")
        im = ImageCms.profileToProfile(im, lab, ImageCms.createProfile("sRGB"), outputMode="RGB")
        icc = None
    elif mode == "La":
        im = im.convert("LA")
    elif mode in ("RGBa", "RGBX"):
        im = im.convert("RGBA" if mode == "RGBa" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        im = im.convert("RGB")
    if icc:
        converted = _apply_icc(im, icc)
        if converted is not None:
            im = converted
    if im.mode == "CMYK":
        im = im.convert("RGB")
    return im


def _colour_key(im: Image.Image, key: Any) -> Image.Image:
    """A PNG colour key (``tRNS`` on a greyscale or RGB image, 8 or 16 bits) as a real alpha
    channel: browsers show those pixels as transparent, so the renditions must too."""
    if im.mode == "RGB":
        if not isinstance(key, tuple):
            return im
        if max(key) > 255:  # a 16-bit key: Pillow reads 16-bit RGB as its high bytes
            key = tuple(v >> 8 for v in key)
        im = im.copy()
        im.info["transparency"] = key
        return im.convert("RGBA")
    if not isinstance(key, int):
        return im
    if im.mode == "L":
        return im.convert("LA")
    alpha = ImageMath.lambda_eval(lambda a: (a["x"] != key) * 255, x=im.convert("I")).convert("L")
    out = _to_8bit_gray(im).convert("LA")
    out.putalpha(alpha)
    return out


def _to_8bit_gray(im: Image.Image) -> Image.Image:
    """16-bit (and 32-bit) greyscale scaled to 0..255, not clipped."""
    wide = im.convert("I") if im.mode != "F" else im
    lo, hi = wide.getextrema()
    if im.mode.startswith("I;16") or (isinstance(hi, int) and hi > 255):
        top = 65535 if im.mode.startswith("I;16") or hi <= 65535 else hi
        wide = wide.point(lambda v: v * (255 / top))
    return wide.convert("L")


def _apply_icc(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert from the embedded profile to sRGB; None when it is sRGB already or unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(profile) or "").strip().lower()
        if any(name in description for name in _SRGB_NAMES):
            return None
        space = profile.profile.xcolor_space.strip()
        srgb = ImageCms.createProfile("sRGB")
        if im.mode in ("L", "LA") and space == "GRAY":
            alpha = im.getchannel("A") if im.mode == "LA" else None
            out = ImageCms.profileToProfile(im.convert("L"), profile, srgb, outputMode="RGB").convert("L")
            if alpha is not None:
                out.putalpha(alpha)
            return out
        if im.mode in ("RGB", "RGBA") and space == "RGB":
            return ImageCms.profileToProfile(im, profile, srgb, outputMode=im.mode)
        if im.mode == "CMYK" and space == "CMYK":
            return ImageCms.profileToProfile(im, profile, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        pass  # a broken or mismatched profile: the pixels are used as they are, like browsers do
    return None


# ---------------------------------------------------------------- writing

def _save(frame: Image.Image, path: Path, fmt: str, params: ImageParams) -> ImageRendition:
    img = frame
    if fmt == "jpeg":
        options: dict[str, Any] = {"quality": params.jpeg_quality, "optimize": True, "progressive": True}
    elif fmt == "webp":
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.mode else "RGB")
        options = {"quality": params.webp_quality, "method": 4}
    else:
        options = {"compress_level": 6}
    img.info = {}  # see process_image: nothing of the source's metadata may reach the file
    img.save(path, format=fmt.upper(), **options)
    return ImageRendition(path.name, img.width, img.height, fmt, path.stat().st_size)



# ---------------------------------------------------------------- images outside the pipeline

def _may_be_photo(head: bytes) -> bool:
    """False when the first bytes of a file match none of the signatures Pillow accepts for
    ``PHOTO_FORMATS`` (looser here than Pillow's own tests, never stricter). A stylesheet or
    script is then not handed to Pillow, which would load every plugin it has (~20 ms) to be sure."""
    return (head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or head[:3] == b"GIF"
            or head[:4] == b"RIFF" or head[:2] in (b"MM", b"II", b"BM") or head[4:8] == b"ftyp")


def sniff_image(path: Path) -> str | None:
    """The photo format of ``path`` judged by its content (Pillow's signatures), None when it is
    not a photo. Only the header is read."""
    try:
        with open(path, "rb") as f:
            if not _may_be_photo(f.read(16)):
                return None
        with Image.open(path, formats=PHOTO_FORMATS) as im:
            return im.format
    except Exception:  # noqa: BLE001 - anything Pillow cannot identify is not a photo
        return None


def has_metadata(im: Image.Image) -> bool:
    """The image carries EXIF (GPS, camera, time), XMP, IPTC, comments or PNG text."""
    try:
        if len(im.getexif()):
            return True
    except Exception:  # noqa: BLE001 - an unreadable EXIF block is still metadata
        return True
    return bool(_METADATA_KEYS & set(im.info)) or bool(getattr(im, "text", None))


def strip_metadata(src: Path, dest: Path) -> bool:
    """Write ``src`` to ``dest`` in the same format without any metadata; False (nothing written)
    when there is nothing to strip. PNG, GIF, TIFF and WebP are rewritten losslessly, JPEG with
    its own quantisation tables (``quality="keep"``); the ICC profile is kept (it is colour, not
    metadata). A format that cannot be rewritten faithfully is a MediaError."""
    try:
        with Image.open(src, formats=PHOTO_FORMATS) as im:
            im.load()
            if not has_metadata(im):
                return False
            fmt = im.format
            keep = {k: im.info[k] for k in ("icc_profile", "transparency", "dpi", "gamma", "duration", "loop",
                                            "background") if k in im.info}
            if fmt in ("JPEG", "MPO"):
                options: dict[str, Any] = {"quality": "keep", "subsampling": "keep", "qtables": "keep"} \
                    if fmt == "JPEG" else {"quality": 95}
                fmt = "JPEG"
            elif fmt == "WEBP":
                options = {"lossless": True, "save_all": bool(getattr(im, "is_animated", False))}
            elif fmt in ("PNG", "GIF", "TIFF", "BMP"):
                options = {"save_all": bool(getattr(im, "is_animated", False))} if fmt != "BMP" else {}
            else:
                raise MediaError(
                    tr("{f} 图片带有元数据（可能含拍摄地点），无法无损去除", "this {f} image carries metadata (possibly the "
                       "place it was taken), which cannot be removed without re-encoding", f=fmt), src,
                    hint=tr("请另存为不带元数据的 PNG 或 JPEG 后再放入主题。",
                            "save it as PNG or JPEG without metadata before putting it into the theme."))
            im.info = {}
            im.save(dest, format=fmt, **keep, **options)
    except MediaError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise _corrupt(src, exc) from exc
    return True
