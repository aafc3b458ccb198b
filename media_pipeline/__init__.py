"""Media pipeline: photo renditions, video transcoding, the content-hash cache and the media catalog.

``MediaLibrary`` (library.py) is the entry point: the build (``builder/media.py``) hands it the site's
photos and videos and a ``MediaSettings``. Nothing here imports ``builder``; errors are ``MediaError``.
"""

from __future__ import annotations

from pathlib import Path

# Every name a camera, phone or editor gives a photo: .jfif/.jpe are JPEG, .heic/.heif the iPhone's
# default (read through pillow-heif), .avif Pillow reads itself. Files under other names are judged
# by content before they are published (builder/media.py): a photo never goes out raw.
IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp",
                        ".avif", ".heic", ".heif"})
VIDEO_EXTS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mts", ".m2ts", ".ts",
                        ".mpg", ".mpeg", ".3gp"})
MEDIA_EXTS = IMAGE_EXTS | VIDEO_EXTS


def media_kind(path: Path | str) -> str | None:
    """"image", "video" or None, by file extension (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTS:
        return "image"
    if suffix in VIDEO_EXTS:
        return "video"
    return None


def check_source_file(path, what: str) -> int:
    """Size of a media source that exists and is not empty; MediaError naming it otherwise.

    ``what`` is "photo" or "video" (it picks the hint shown to the user)."""
    from media_pipeline.errors import MediaError
    from media_pipeline.i18n import tr

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(tr("文件不存在", "file not found"), path) from None
    except OSError as exc:
        raise MediaError(tr("无法读取文件：{e}", "cannot read the file: {e}", e=exc.strerror or exc), path) from exc
    if size == 0:
        raise MediaError(tr("文件为空（0 字节）", "the file is empty (0 bytes)"), path,
                         hint=tr("请重新复制或导出该视频。", "copy or export the video again.") if what == "video"
                         else tr("请重新复制或导出该图片。", "copy or export the photo again."))
    return size
