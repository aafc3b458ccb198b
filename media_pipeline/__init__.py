"""Media pipeline: photo renditions, video transcoding, the content-hash cache and the media catalog.

``MediaLibrary`` (library.py) is the entry point for build, serve and the ``zhuanti media`` command.
"""

from __future__ import annotations

from pathlib import Path

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp"})
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
