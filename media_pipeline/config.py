"""What the build tells the pipeline about a site: where it lives, where the cache is, and the
``[media]`` settings. The build fills it in (``builder/media.py``); the pipeline reads nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MediaSettings:
    """One site's media configuration. Field names follow ``[media]`` in site.toml."""

    root: Path  # the site root: sources are named relative to it in messages
    cache_dir: Path  # the media cache (``<site>/.zhuanti-cache/media``)
    config_file: Path | None = None  # named when a setting is wrong
    video_heights: list[int] = field(default_factory=lambda: [1080, 720, 480])
    video_crf: int = 23
    video_maxrate_kbps: int = 5000
    video_preset: str = "medium"
    hls_min_seconds: float = 600.0
    hls_time: float = 4.0
    video_audio_kbps: int = 128
    video_poster_fraction: float = 0.1
    video_poster_seconds: float | None = None
    image_widths: list[int] = field(default_factory=lambda: [480, 960, 1600])
    jpeg_quality: int = 85
    webp_quality: int = 80
    max_image_pixels: int = 120_000_000


@dataclass(frozen=True)
class MediaItem:
    """One photo or video of the site as the build sees it: the file, where the build publishes
    it (``output``, a path under the output folder) and the topic it belongs to (None: site-wide)."""

    source: Path
    output: str
    topic: str | None = None
