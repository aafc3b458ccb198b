"""Generate the sample site's photos and videos: the 轨道交通摄影展 gallery and the 我是规划师 episodes.

Photos and videos are never committed (they are large and binary); this script makes them from
code, deterministically, so every checkout builds the same sample site. Run from anywhere:

    .venv/bin/python site_src/tools/make_sample_media.py            # normal media (~1600 px, 8–10 s)
    .venv/bin/python site_src/tools/make_sample_media.py --quick    # tiny media for tests
    .venv/bin/python site_src/tools/make_sample_media.py --root DIR # a copy of the sample site

What it writes (the committed sidecars, captions and pages beside them stay as they are):
- topics/guidao-sheying/<part>/photos/pNN.jpg  — 63 JPEGs drawn with Pillow (trains, tracks,
  stations, skylines …) with EXIF (camera, date, GPS); four carry an orientation tag (6 or 8)
  with their pixels stored rotated, so the build's EXIF stripping and auto-rotation are exercised.
  A handful are portrait.
- topics/woshi-guihuashi/videos/epNN.{mp4,mov,mkv} — five short episodes from ffmpeg's lavfi
  sources with a title overlay and a tone; one has no audio, one is a phone-style portrait clip
  (landscape pixels plus a -90° display matrix).

The caption drawn on a photo or video is the ``title:`` of its sidecar (``pNN.jpg.yaml``) when
there is one, so the picture says what the page says.

Idempotent by bookkeeping: ``.zhuanti-cache/sample-media.json`` records, for every file, a digest
of what it was made from (mode, drawing parameters, caption, this script's own bytes) and its size. A
file whose record matches and whose size is unchanged is skipped; anything else is regenerated
(``--force`` regenerates everything). Output bytes depend only on those inputs plus the Pillow
and ffmpeg versions (x264 runs with a fixed thread count; containers are written bit-exact).
Files are written under a hidden temporary name and renamed, so an interrupted run never leaves
a half-written photo or video that looks finished.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

REPO = Path(__file__).resolve().parents[2]
STATE_FILE = Path(".zhuanti-cache") / "sample-media.json"
FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX = 2  # Noto Sans CJK SC inside the collection (0 is JP)
EXHIBITION = "城市脉动·轨道印记——示例市轨道交通摄影展"
SERIES = "我是规划师"


# ---------------------------------------------------------------- what to make

@dataclass(frozen=True)
class PhotoSpec:
    """One exhibition photo: where it goes and how it is drawn."""

    part: str         # column folder under topics/guidao-sheying/
    name: str         # file name in the part's photos/ folder
    scene: str        # drawing function (SCENES)
    palette: str      # light and colours (PALETTES)
    seed: int
    portrait: bool = False
    orientation: int = 1  # EXIF orientation written; the pixels are stored so it displays upright

    @property
    def rel(self) -> str:
        return f"topics/guidao-sheying/{self.part}/photos/{self.name}"


@dataclass(frozen=True)
class EpisodeSpec:
    """One 我是规划师 episode: container, picture source, tone."""

    name: str              # file name in topics/woshi-guihuashi/videos/
    number: str            # 第一集 …
    source: str            # lavfi picture source (video_graph)
    size: tuple[int, int]  # upright picture size (normal mode)
    seconds: float
    tone: float | None     # sine frequency; None: no audio track at all
    audio_codec: str = "aac"
    video_codec: str = "libx264"
    portrait_phone: bool = False  # landscape pixels + a -90° display matrix, as a phone records

    @property
    def rel(self) -> str:
        return f"topics/woshi-guihuashi/videos/{self.name}"


# (part folder, [(scene, palette, portrait, orientation), …]) — 63 photos over the seven parts.
PARTS: list[tuple[str, list[tuple[str, str, bool, int]]]] = [
    ("kaipian", [("viaduct", "dawn", False, 1), ("city", "dusk", False, 1), ("platform", "indoor", False, 1),
                 ("train_front", "night", False, 1), ("hall", "indoor", False, 1), ("tunnel", "night", False, 1),
                 ("city", "night", False, 1)]),
    ("xianwang-jianshe", [("map", "paper", False, 1), ("construction", "day", False, 1), ("shield", "indoor", False, 1),
                          ("construction", "dusk", False, 1), ("tunnel", "indoor", False, 1),
                          ("depot", "overcast", False, 1), ("viaduct", "overcast", False, 1),
                          ("construction", "dawn", False, 1), ("map", "paper2", False, 1),
                          ("fields", "green", False, 1)]),
    ("chezhan-jianzhu", [("hall", "indoor", False, 1), ("hall", "warm", True, 1), ("entrance", "day", False, 1),
                         ("platform", "indoor", False, 8), ("platform", "warm", True, 1), ("entrance", "dusk", False, 1),
                         ("viaduct", "day", False, 1), ("hall", "warm", False, 1), ("gates", "indoor", False, 1),
                         ("entrance", "day", True, 1)]),
    ("cheliang-zhuangbei", [("train_side", "day", False, 1), ("train_front", "indoor", False, 1),
                            ("depot", "dawn", False, 1), ("train_side", "night", False, 1), ("wheel", "indoor", False, 1),
                            ("interior", "indoor", False, 1), ("depot", "day", False, 1),
                            ("train_front", "warm", False, 6), ("control", "night", False, 1)]),
    ("yunying-fuwu", [("gates", "indoor", False, 1), ("control", "night", False, 1), ("interior", "warm", False, 1),
                      ("platform", "warm", False, 8), ("gates", "warm", False, 1), ("tunnel", "night", False, 1),
                      ("platform", "night", False, 1), ("interior", "indoor", False, 1), ("entrance", "overcast", False, 1)]),
    ("chengshi-fengmao", [("city", "day", False, 1), ("viaduct", "dusk", False, 1), ("city", "night", False, 1),
                          ("fields", "green", False, 1), ("city", "dawn", False, 6), ("viaduct", "snow", False, 1),
                          ("city", "overcast", False, 1), ("city", "dusk", False, 1), ("fields", "autumn", False, 1),
                          ("viaduct", "day", False, 1)]),
    ("weilai-zhanwang", [("future", "night", False, 1), ("map", "paper2", False, 1), ("future", "dusk", False, 1),
                         ("hall", "future", False, 1), ("city", "night", False, 1), ("future", "day", False, 1),
                         ("construction", "day", False, 1), ("map", "paper", False, 1)]),
]

EPISODES = [
    EpisodeSpec("ep01.mp4", "第一集", "gradients", (1280, 720), 10, 392.0),
    EpisodeSpec("ep02.mov", "第二集", "life", (640, 360), 8, 440.0),
    EpisodeSpec("ep03.mkv", "第三集", "cellauto", (640, 360), 8, 523.25, audio_codec="libopus"),
    EpisodeSpec("ep04.mp4", "第四集", "mandelbrot", (360, 640), 8, 349.23, portrait_phone=True),
    EpisodeSpec("ep05.mov", "第五集", "smptehdbars", (640, 360), 6, None, video_codec="mpeg4"),
]


def photo_specs() -> list[PhotoSpec]:
    out = []
    for p, (part, photos) in enumerate(PARTS):
        for i, (scene, palette, portrait, orientation) in enumerate(photos, start=1):
            out.append(PhotoSpec(part, f"p{i:02d}.jpg", scene, palette, seed=1000 * (p + 1) + i,
                                 portrait=portrait, orientation=orientation))
    return out


def photo_size(spec: PhotoSpec, quick: bool) -> tuple[int, int]:
    long, short = (640, 427) if quick else (1600, 1067)
    return (short, long) if spec.portrait else (long, short)


def episode_size(spec: EpisodeSpec, quick: bool) -> tuple[int, int]:
    if not quick:
        return spec.size
    return (180, 320) if spec.size[1] > spec.size[0] else (320, 180)


def sidecar_title(media: Path) -> str:
    """``title:`` of the media's sidecar YAML (plain or quoted scalar), '' when there is none."""
    side = media.with_name(media.name + ".yaml")
    try:
        text = side.read_text(encoding="utf-8-sig")
    except OSError:
        return ""
    m = re.search(r"^title:[ \t]*(.+?)[ \t]*$", text, re.M)
    return m.group(1).strip("'\"") if m else ""


# ---------------------------------------------------------------- drawing helpers

PALETTES = {
    # sky top, sky bottom, ground top, ground bottom, far buildings, near buildings, sun/moon, lit windows
    "dawn": ((38, 62, 118), (247, 176, 120), (74, 72, 80), (40, 40, 48), (96, 90, 118), (52, 52, 70), (255, 228, 176), False),
    "day": ((70, 134, 204), (200, 226, 244), (132, 136, 132), (96, 100, 98), (150, 168, 190), (98, 112, 134), (255, 252, 232), False),
    "dusk": ((44, 36, 92), (246, 132, 88), (58, 50, 66), (30, 26, 38), (92, 70, 104), (44, 36, 56), (255, 196, 128), True),
    "night": ((6, 10, 28), (36, 50, 98), (26, 28, 38), (10, 10, 16), (34, 40, 66), (18, 20, 34), (236, 236, 218), True),
    "overcast": ((150, 160, 172), (216, 220, 226), (164, 166, 170), (124, 126, 132), (132, 140, 152), (100, 106, 120), (240, 240, 240), False),
    "snow": ((170, 180, 192), (226, 230, 236), (240, 243, 247), (214, 220, 228), (146, 154, 168), (112, 120, 136), (245, 245, 245), False),
    "green": ((84, 146, 210), (206, 230, 246), (112, 164, 92), (70, 122, 60), (128, 160, 150), (92, 120, 110), (255, 252, 232), False),
    "autumn": ((90, 140, 200), (236, 220, 190), (206, 160, 76), (160, 108, 44), (150, 140, 150), (110, 100, 112), (255, 240, 210), False),
    # interiors: ceiling, wall, floor top, floor bottom, structure, accent, light, people
    "indoor": ((196, 204, 214), (232, 236, 240), (188, 192, 198), (128, 134, 142), (160, 168, 180), (0, 120, 190), (255, 255, 240), False),
    "warm": ((120, 96, 80), (236, 214, 186), (196, 170, 140), (122, 98, 78), (164, 130, 100), (200, 60, 50), (255, 236, 190), False),
    "future": ((20, 30, 60), (110, 170, 220), (60, 80, 110), (20, 28, 44), (90, 200, 230), (0, 220, 200), (220, 250, 255), True),
    "paper": ((246, 244, 238), (236, 233, 224), (236, 233, 224), (236, 233, 224), (210, 206, 196), (120, 160, 200), (0, 0, 0), False),
    "paper2": ((244, 246, 248), (228, 234, 240), (228, 234, 240), (228, 234, 240), (200, 210, 220), (110, 170, 200), (0, 0, 0), False),
}
LINE_COLOURS = [(204, 38, 46), (0, 102, 180), (0, 150, 80), (244, 140, 20), (130, 60, 160), (0, 160, 170), (150, 100, 50)]
PEOPLE = [(60, 70, 90), (150, 50, 50), (40, 90, 130), (200, 160, 60), (90, 110, 80), (120, 120, 130), (180, 90, 120)]


@dataclass
class Canvas:
    """An image being drawn, addressed in fractions of its width and height."""

    img: Image.Image
    rng: random.Random
    pal: tuple

    def __post_init__(self) -> None:
        self.d = ImageDraw.Draw(self.img, "RGBA")  # RGBA fills blend onto the RGB picture
        self.W, self.H = self.img.size

    def x(self, f: float) -> int:
        return round(f * self.W)

    def y(self, f: float) -> int:
        return round(f * self.H)

    def pt(self, fx: float, fy: float) -> tuple[int, int]:
        return self.x(fx), self.y(fy)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[int]:
        return [self.x(min(x0, x1)), self.y(min(y0, y1)), self.x(max(x0, x1)), self.y(max(y0, y1))]

    def rect(self, x0, y0, x1, y1, fill, radius: float = 0) -> None:
        b = self.box(x0, y0, x1, y1)
        if radius:
            r = max(1, round(radius * min(self.W, self.H)))
            r = min(r, (b[2] - b[0]) // 2, (b[3] - b[1]) // 2)
            self.d.rounded_rectangle(b, r, fill=fill)
        else:
            self.d.rectangle(b, fill=fill)

    def poly(self, points, fill, outline=None) -> None:
        self.d.polygon([self.pt(*p) for p in points], fill=fill, outline=outline)

    def line(self, points, fill, width: float) -> None:
        self.d.line([self.pt(*p) for p in points], fill=fill, width=max(1, round(width * self.H)))

    def ellipse(self, cx, cy, rx, ry, fill=None, outline=None, width: float = 0) -> None:
        """rx in fractions of the width, ry of the height."""
        w = max(1, round(width * self.H)) if width else 1
        self.d.ellipse(self.box(cx - rx, cy - ry, cx + rx, cy + ry), fill=fill, outline=outline, width=w)

    def circle(self, cx, cy, r, fill=None, outline=None, width: float = 0) -> None:
        """A true circle of radius ``r`` (fraction of the height)."""
        R = r * self.H
        w = max(1, round(width * self.H)) if width else 1
        X, Y = cx * self.W, cy * self.H
        self.d.ellipse([round(X - R), round(Y - R), round(X + R), round(Y + R)], fill=fill, outline=outline, width=w)

    def gradient(self, x0, y0, x1, y1, top, bottom) -> None:
        b = self.box(x0, y0, x1, y1)
        w, h = max(1, b[2] - b[0]), max(1, b[3] - b[1])
        ramp = Image.linear_gradient("L").resize((w, h), Image.Resampling.BILINEAR)
        self.img.paste(ImageOps.colorize(ramp, top, bottom), (b[0], b[1]))

    def glow(self, cx, cy, r, colour, strength: int = 90) -> None:
        for i in range(6, 0, -1):
            self.circle(cx, cy, r * i / 3, fill=(*colour, strength // (i + 1)))

    def person(self, fx: float, fy: float, scale: float, colour=None) -> None:
        """A standing figure whose feet are at (fx, fy); ``scale`` is its height in fractions of H."""
        c = colour or self.rng.choice(PEOPLE)
        h = scale
        w = h * 0.34 * self.H / self.W
        self.rect(fx - w / 2, fy - h * 0.78, fx + w / 2, fy - h * 0.3, c, radius=h * 0.08)
        self.rect(fx - w * 0.38, fy - h * 0.32, fx - w * 0.04, fy, (40, 40, 50))
        self.rect(fx + w * 0.04, fy - h * 0.32, fx + w * 0.38, fy, (40, 40, 50))
        self.circle(fx, fy - h * 0.88, h * 0.11, fill=(70, 50, 40))

    def crowd(self, y_lo: float, y_hi: float, n: int, size: float) -> None:
        feet = sorted((self.rng.uniform(y_lo, y_hi), self.rng.uniform(0.05, 0.95)) for _ in range(n))
        for fy, fx in feet:  # far first, so nearer people overlap them
            self.person(fx, fy, size * (0.6 + 0.8 * (fy - y_lo) / max(0.01, y_hi - y_lo)))


def mix(a: tuple, b: tuple, t: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def outdoor(c: Canvas, horizon: float = 0.62, sun: tuple[float, float] | None = None) -> None:
    sky_top, sky_bottom, ground_top, ground_bottom, *_rest = c.pal
    c.gradient(0, 0, 1, horizon, sky_top, sky_bottom)
    c.gradient(0, horizon, 1, 1, ground_top, ground_bottom)
    sx, sy = sun or (c.rng.uniform(0.15, 0.85), c.rng.uniform(0.12, horizon - 0.15))
    c.glow(sx, sy, 0.05, c.pal[6], 70)
    c.circle(sx, sy, 0.045, fill=c.pal[6])
    if c.pal[7]:  # stars
        for _ in range(120):
            c.circle(c.rng.random(), c.rng.uniform(0, horizon * 0.7), 0.0015, fill=(255, 255, 255, c.rng.randint(60, 200)))


def skyline(c: Canvas, base: float, colour, lo: float, hi: float, lit: bool) -> None:
    x = -0.02
    while x < 1.0:
        w = c.rng.uniform(0.035, 0.085)
        top = base - c.rng.uniform(lo, hi)
        c.rect(x, top, x + w, base, colour)
        if c.rng.random() < 0.25:  # an antenna or a stepped top
            c.rect(x + w * 0.3, top - 0.03, x + w * 0.7, top, colour)
        if lit:
            for wy in range(int((base - top) / 0.03)):
                for wx in range(int(w / 0.014)):
                    if c.rng.random() < 0.35:
                        fx, fy = x + 0.006 + wx * 0.014, top + 0.012 + wy * 0.03
                        c.rect(fx, fy, fx + 0.006, fy + 0.012, (255, 214, 120, c.rng.randint(120, 230)))
        x += w + c.rng.uniform(0.0, 0.02)


def train_side(c: Canvas, x0: float, y_top: float, length: float, height: float, livery, lit: bool,
               cars: int = 4, nose: bool = True) -> None:
    """A train seen from the side between x0 and x0+length, body top at y_top."""
    gap = length * 0.008
    car = (length - gap * (cars - 1)) / cars
    body = (236, 238, 242) if not lit else (200, 204, 212)
    window = (255, 226, 150) if lit else (52, 64, 82)
    for i in range(cars):
        a = x0 + i * (car + gap)
        b = a + car
        c.rect(a, y_top, b, y_top + height, body, radius=height * 0.18)
        if nose and i == cars - 1:
            c.poly([(b - car * 0.02, y_top), (b + car * 0.09, y_top + height * 0.55), (b + car * 0.09, y_top + height),
                    (b - car * 0.02, y_top + height)], body)
            c.poly([(b, y_top + height * 0.08), (b + car * 0.07, y_top + height * 0.52), (b, y_top + height * 0.52)],
                   (30, 40, 56))
            c.circle(b + car * 0.06, y_top + height * 0.78, height * 0.06, fill=(255, 250, 220))
        c.rect(a, y_top + height * 0.66, b, y_top + height * 0.78, livery)
        n = 5
        for k in range(n):
            wx = a + car * (0.06 + k * 0.19)
            c.rect(wx, y_top + height * 0.18, wx + car * 0.11, y_top + height * 0.52, window, radius=height * 0.04)
        for k in (0.26, 0.64):  # doors
            c.rect(a + car * k, y_top + height * 0.12, a + car * (k + 0.07), y_top + height * 0.95,
                   mix(body, (120, 128, 140), 0.35))
        c.rect(a + car * 0.1, y_top + height, a + car * 0.3, y_top + height * 1.12, (36, 36, 42))
        c.rect(a + car * 0.7, y_top + height, a + car * 0.9, y_top + height * 1.12, (36, 36, 42))


def viaduct_deck(c: Canvas, y_deck: float, thick: float, ground: float, colour, piers: int = 6) -> None:
    c.rect(-0.01, y_deck, 1.01, y_deck + thick, colour)
    c.rect(-0.01, y_deck - thick * 0.35, 1.01, y_deck, mix(colour, (255, 255, 255), 0.2))
    for i in range(piers + 1):
        px = (i + 0.5) / piers - 0.04
        c.poly([(px, y_deck + thick), (px + 0.045, y_deck + thick), (px + 0.035, ground), (px + 0.01, ground)],
               mix(colour, (0, 0, 0), 0.15))


def vanish_frames(c: Canvas, vx: float, vy: float, n: int, near: float = 1.0):
    """Rectangles (x0, y0, x1, y1) of a corridor receding to (vx, vy), nearest first."""
    out = []
    for i in range(n):
        s = near / (1 + i * 0.55)
        out.append((vx - s * vx * 1.05, vy - s * vy * 1.05, vx + s * (1 - vx) * 1.05, vy + s * (1 - vy) * 1.05))
    return out


# ---------------------------------------------------------------- scenes

def scene_viaduct(c: Canvas) -> None:
    outdoor(c, 0.64)
    skyline(c, 0.64, c.pal[4], 0.08, 0.26, c.pal[7])
    viaduct_deck(c, 0.5, 0.05, 0.78, mix(c.pal[5], (200, 200, 200), 0.35))
    train_side(c, c.rng.uniform(-0.05, 0.2), 0.395, c.rng.uniform(0.6, 0.75), 0.09, c.rng.choice(LINE_COLOURS), c.pal[7])
    for i in range(9):  # lamp posts along the road below
        lx = i / 8
        c.line([(lx, 0.92), (lx, 0.74)], (70, 70, 80), 0.004)
        c.circle(lx + 0.01, 0.74, 0.007, fill=(255, 230, 160) if c.pal[7] else (220, 220, 210))
    c.rect(0, 0.9, 1, 0.94, (90, 90, 96))


def scene_city(c: Canvas) -> None:
    outdoor(c, 0.6)
    skyline(c, 0.6, c.pal[4], 0.12, 0.32, c.pal[7])
    skyline(c, 0.62, c.pal[5], 0.06, 0.2, c.pal[7])
    water_top, water_bottom = mix(c.pal[1], (30, 60, 90), 0.5), mix(c.pal[0], (10, 20, 40), 0.4)
    c.gradient(0, 0.7, 1, 1, water_top, water_bottom)
    for _ in range(70):  # reflections
        wx, wy = c.rng.random(), c.rng.uniform(0.72, 0.98)
        c.rect(wx, wy, wx + c.rng.uniform(0.01, 0.06), wy + 0.004, (*mix(c.pal[6], (255, 255, 255), 0.3), 90))
    c.rect(0, 0.64, 1, 0.7, mix(c.pal[3], (80, 80, 80), 0.3))
    viaduct_deck(c, 0.6, 0.03, 0.7, (150, 152, 160), piers=5)
    train_side(c, c.rng.uniform(0.05, 0.35), 0.535, 0.55, 0.06, c.rng.choice(LINE_COLOURS), c.pal[7], cars=5)


def scene_fields(c: Canvas) -> None:
    outdoor(c, 0.5)
    for i in range(4):  # hills
        hx = c.rng.uniform(0, 1)
        c.ellipse(hx, 0.52, c.rng.uniform(0.2, 0.4), c.rng.uniform(0.06, 0.12), fill=mix(c.pal[4], c.pal[2], 0.3 + i * 0.1))
    c.gradient(0, 0.5, 1, 1, c.pal[2], c.pal[3])
    for i in range(-12, 13):  # furrows converging on the horizon
        c.line([(0.5 + i * 0.01, 0.5), (0.5 + i * 0.12, 1.0)], (*mix(c.pal[3], (0, 0, 0), 0.2), 110), 0.003)
    viaduct_deck(c, 0.46, 0.03, 0.58, (170, 172, 178), piers=8)
    train_side(c, c.rng.uniform(0.1, 0.3), 0.4, 0.5, 0.055, c.rng.choice(LINE_COLOURS), False, cars=6)


def scene_construction(c: Canvas) -> None:
    outdoor(c, 0.66)
    skyline(c, 0.66, c.pal[4], 0.05, 0.16, c.pal[7])
    c.gradient(0, 0.66, 1, 1, (150, 120, 90), (104, 82, 62))
    mx = c.rng.uniform(0.55, 0.8)
    steel = (240, 180, 30)
    c.line([(mx, 0.7), (mx, 0.12)], steel, 0.008)
    c.line([(mx + 0.03, 0.7), (mx + 0.03, 0.12)], steel, 0.008)
    for k in range(14):
        y0 = 0.7 - k * 0.04
        c.line([(mx, y0), (mx + 0.03, y0 - 0.04)], steel, 0.003)
    c.line([(mx - 0.45, 0.12), (mx + 0.18, 0.12)], steel, 0.01)
    c.line([(mx - 0.45, 0.14), (mx + 0.015, 0.06), (mx + 0.18, 0.14)], steel, 0.004)
    c.rect(mx + 0.1, 0.12, mx + 0.17, 0.18, (90, 90, 96))
    hook = mx - c.rng.uniform(0.15, 0.4)
    c.line([(hook, 0.12), (hook, 0.4)], (60, 60, 60), 0.002)
    c.rect(hook - 0.04, 0.4, hook + 0.04, 0.43, (130, 130, 140))
    for i in range(4):  # piers, the nearer ones still bare with rebar
        px = 0.08 + i * 0.13
        c.rect(px, 0.45 + i * 0.02, px + 0.05, 0.8, (176, 176, 180))
        for r in range(6):
            c.line([(px + 0.006 + r * 0.0075, 0.45 + i * 0.02), (px + 0.006 + r * 0.0075, 0.41 + i * 0.02)], (120, 70, 40), 0.002)
    for _ in range(6):
        fx, fy = c.rng.uniform(0.05, 0.95), c.rng.uniform(0.8, 0.95)
        c.person(fx, fy, 0.12, (250, 120, 30))
        c.ellipse(fx, fy - 0.12 * 0.95, 0.008, 0.012, fill=(250, 220, 40))


def scene_shield(c: Canvas) -> None:
    c.gradient(0, 0, 1, 1, (30, 32, 38), (70, 66, 60))
    for i in range(7, 0, -1):
        c.circle(0.5, 0.47, 0.08 * i, outline=(110, 110, 116), width=0.01)
    c.circle(0.5, 0.47, 0.36, fill=(200, 120, 40))
    c.circle(0.5, 0.47, 0.36, outline=(90, 60, 30), width=0.012)
    for k in range(8):  # spokes with cutters
        a = k * math.pi / 4 + c.rng.uniform(0, 0.2)
        ex, ey = 0.5 + 0.34 * math.cos(a) * c.H / c.W, 0.47 + 0.34 * math.sin(a)
        c.line([(0.5, 0.47), (ex, ey)], (120, 70, 30), 0.025)
        for t in (0.35, 0.6, 0.85):
            c.circle(0.5 + (ex - 0.5) * t, 0.47 + (ey - 0.47) * t, 0.012, fill=(210, 210, 210))
    c.circle(0.5, 0.47, 0.06, fill=(90, 90, 96))
    c.rect(0, 0.86, 1, 1, (60, 58, 56))
    for _ in range(5):
        fx = c.rng.uniform(0.1, 0.9)
        c.person(fx, c.rng.uniform(0.9, 0.98), 0.2, (250, 120, 30))
    for i in range(6):
        c.glow(0.1 + i * 0.16, 0.06, 0.01, (255, 240, 200), 120)


def scene_tunnel(c: Canvas) -> None:
    dark = c.pal[7]
    c.gradient(0, 0, 1, 1, (24, 26, 32) if dark else (120, 124, 130), (60, 60, 66) if dark else (170, 170, 176))
    vx, vy = c.rng.uniform(0.45, 0.55), 0.48
    for i, (x0, y0, x1, y1) in enumerate(vanish_frames(c, vx, vy, 16, 1.1)):
        shade = mix((90, 94, 100), (30, 30, 36), i / 16) if dark else mix((200, 200, 204), (120, 120, 126), i / 16)
        c.d.ellipse(c.box(x0, y0, x1, y1 + (y1 - y0) * 0.3), outline=shade, width=max(1, round(c.H * 0.012 / (1 + i * 0.4))))
        lx = x0 + (x1 - x0) * 0.12
        c.glow(lx, vy + (y1 - vy) * 0.2, 0.006 / (1 + i * 0.3), (255, 236, 180), 140)
    c.poly([(vx - 0.01, vy), (vx + 0.01, vy), (0.95, 1.0), (0.05, 1.0)], (50, 50, 56) if dark else (150, 150, 150))
    for side in (-1, 1):
        c.line([(vx + side * 0.003, vy), (0.5 + side * 0.22, 1.0)], (190, 190, 196), 0.006)
    if dark:
        c.glow(vx, vy - 0.01, 0.03, (255, 250, 220), 110)
        for dx in (-0.015, 0.015):
            c.circle(vx + dx, vy + 0.005, 0.006, fill=(255, 255, 235))


def _interior_box(c: Canvas, vx: float, vy: float, depth: float = 0.12) -> tuple[float, float, float, float]:
    """Ceiling, walls and floor of a room seen down its length; returns the back wall."""
    ceiling, wall, floor_top, floor_bottom = c.pal[0], c.pal[1], c.pal[2], c.pal[3]
    bx0, by0, bx1, by1 = vx - depth, vy - depth * 0.9, vx + depth, vy + depth * 0.9
    c.gradient(0, 0, 1, 1, wall, mix(wall, floor_top, 0.5))
    c.poly([(0, 0), (1, 0), (bx1, by0), (bx0, by0)], ceiling)
    c.poly([(0, 1), (1, 1), (bx1, by1), (bx0, by1)], floor_bottom)
    c.poly([(0.05, 1), (0.95, 1), (bx1 - 0.01, by1), (bx0 + 0.01, by1)], floor_top)
    c.poly([(0, 0), (bx0, by0), (bx0, by1), (0, 1)], mix(wall, (0, 0, 0), 0.08))
    c.poly([(1, 0), (bx1, by0), (bx1, by1), (1, 1)], mix(wall, (0, 0, 0), 0.12))
    c.rect(bx0, by0, bx1, by1, mix(wall, (255, 255, 255), 0.3))
    for t in (0.15, 0.3, 0.45, 0.6, 0.75):  # ceiling light strips
        yy = t * by0
        xa, xb = t * bx0 + (1 - t) * 0.25, 1 - (t * (1 - bx1) + (1 - t) * 0.25)
        c.rect(xa, yy, xb, yy + 0.012 * (1 - t) + 0.002, (*c.pal[6], 230))
    return bx0, by0, bx1, by1


def scene_platform(c: Canvas) -> None:
    vx, vy = c.rng.uniform(0.42, 0.58), 0.45
    bx0, by0, bx1, by1 = _interior_box(c, vx, vy)
    # platform screen doors along the left wall
    for i in range(9):
        t0, t1 = i / 9, (i + 0.85) / 9
        xa, xb = bx0 * t0, bx0 * t1
        ya0, yb0 = 0.16 + (by0 - 0.16) * t0, 0.16 + (by0 - 0.16) * t1
        ya1, yb1 = 0.92 + (by1 - 0.92) * t0, 0.92 + (by1 - 0.92) * t1
        c.poly([(xa, ya0), (xb, yb0), (xb, yb1), (xa, ya1)], (*mix(c.pal[5], (40, 60, 80), 0.6), 200))
        c.poly([(xa, ya0), (xb, yb0), (xb, yb0 + 0.03 * (1 - t0)), (xa, ya0 + 0.03 * (1 - t0))], c.pal[5])
    c.poly([(0.12, 1), (0.2, 1), (bx0 + 0.01, by1), (bx0 + 0.005, by1)], (250, 200, 30))  # safety line
    for k in range(6):  # pillars on the right
        t = k / 6
        px = 0.85 + (bx1 + 0.02 - 0.85) * t
        w = 0.04 * (1 - t) + 0.005
        c.rect(px, 0.06 + (by0 - 0.06) * t, px + w, 0.96 + (by1 - 0.96) * t, mix(c.pal[4], (255, 255, 255), 0.2))
    c.crowd(0.7, 0.95, 7, 0.28)


def scene_hall(c: Canvas) -> None:
    vx, vy = 0.5, 0.5
    c.gradient(0, 0, 1, 1, c.pal[0], c.pal[1])
    for i in range(10):  # vaults receding
        s = 1 / (1 + i * 0.45)
        w, h = 0.62 * s, 0.7 * s
        c.d.arc(c.box(vx - w, vy - h, vx + w, vy + h), 180, 360, fill=mix(c.pal[4], (60, 60, 70), 0.2),
                width=max(1, round(c.H * 0.02 * s)))
    c.gradient(0, 0.55, 1, 1, c.pal[2], c.pal[3])
    for i in range(10):  # skylights
        c.rect(0.5 - 0.08 / (1 + i * 0.5), 0.02 + i * 0.045, 0.5 + 0.08 / (1 + i * 0.5), 0.035 + i * 0.045,
               (*c.pal[6], 200))
    for i in range(6):  # columns in two rows
        s = 1 / (1 + i * 0.6)
        for side in (-1, 1):
            x = vx + side * 0.38 * s
            c.rect(x - 0.015 * s, vy - 0.45 * s, x + 0.015 * s, vy + 0.45 * s + 0.05, mix(c.pal[4], (255, 255, 255), 0.15))
    c.rect(0.3, 0.18, 0.7, 0.24, (*c.pal[5], 230), radius=0.01)  # the line-colour information band
    c.crowd(0.62, 0.97, 14, 0.26)


def scene_entrance(c: Canvas) -> None:
    outdoor(c, 0.55)
    skyline(c, 0.55, c.pal[4], 0.15, 0.35, c.pal[7])
    c.rect(0, 0.55, 1, 1, mix(c.pal[2], (150, 150, 150), 0.4))
    for i in range(12):  # paving
        c.line([(0, 0.6 + i * 0.035), (1, 0.6 + i * 0.035)], (*mix(c.pal[3], (0, 0, 0), 0.1), 90), 0.002)
    ex = c.rng.uniform(0.25, 0.55)
    glass = (170, 210, 230, 150) if not c.pal[7] else (255, 220, 150, 170)
    c.poly([(ex, 0.4), (ex + 0.32, 0.36), (ex + 0.32, 0.78), (ex, 0.78)], glass)
    c.line([(ex, 0.4), (ex + 0.32, 0.36)], (80, 90, 100), 0.012)
    for k in range(6):
        xx = ex + k * 0.064
        c.line([(xx, 0.4 - k * 0.008), (xx, 0.78)], (90, 100, 110), 0.004)
    c.poly([(ex + 0.05, 0.78), (ex + 0.27, 0.78), (ex + 0.24, 0.62), (ex + 0.08, 0.62)], (70, 70, 76))
    sx = ex - 0.08
    c.line([(sx, 0.78), (sx, 0.34)], (90, 90, 96), 0.01)
    c.circle(sx, 0.3, 0.06, fill=c.rng.choice(LINE_COLOURS))
    c.circle(sx, 0.3, 0.045, fill=(255, 255, 255))
    c.line([(sx - 0.012, 0.325), (sx - 0.012, 0.275), (sx, 0.3), (sx + 0.012, 0.275), (sx + 0.012, 0.325)],
           (40, 40, 50), 0.008)
    for tx in (0.06, 0.86, 0.95):  # trees
        c.rect(tx - 0.005, 0.6, tx + 0.005, 0.78, (90, 64, 40))
        c.circle(tx, 0.55, 0.09, fill=(70, 130, 70) if c.pal is not PALETTES["dusk"] else (40, 70, 50))
    c.crowd(0.78, 0.98, 8, 0.22)


def scene_gates(c: Canvas) -> None:
    c.gradient(0, 0, 1, 0.6, c.pal[0], c.pal[1])
    c.gradient(0, 0.6, 1, 1, c.pal[2], c.pal[3])
    c.rect(0.05, 0.12, 0.95, 0.2, (30, 40, 60))
    for i, colour in enumerate(LINE_COLOURS[:4]):
        c.rect(0.1 + i * 0.2, 0.14, 0.16 + i * 0.2, 0.18, colour, radius=0.005)
    n = 8
    for i in range(n):  # the gate line
        gx = 0.06 + i * 0.88 / n
        c.rect(gx, 0.5, gx + 0.035, 0.72, (150, 156, 166), radius=0.006)
        c.rect(gx + 0.006, 0.52, gx + 0.029, 0.56, (20, 30, 40))
        c.poly([(gx + 0.012, 0.545), (gx + 0.024, 0.54), (gx + 0.012, 0.535)], (60, 220, 90))
        c.rect(gx + 0.035, 0.6, gx + 0.035 + 0.88 / n - 0.035, 0.62, (*c.pal[5], 140))
    c.crowd(0.75, 0.98, 12, 0.3)


def scene_interior(c: Canvas) -> None:
    vx, vy = 0.5, 0.46
    bx0, by0, bx1, by1 = _interior_box(c, vx, vy, 0.1)
    seat = mix(c.pal[5], (40, 40, 60), 0.2)
    for side in (-1, 1):  # benches and windows along both walls
        edge = 0.0 if side < 0 else 1.0
        back = bx0 if side < 0 else bx1
        c.poly([(edge, 0.62), (back, vy + 0.03), (back, vy + 0.06), (edge, 0.82)], seat)
        for i in range(5):
            t0, t1 = i / 5 + 0.02, i / 5 + 0.16
            xa, xb = edge + (back - edge) * t0, edge + (back - edge) * t1
            ya, yb = 0.22 + (by0 + 0.02 - 0.22) * t0, 0.22 + (by0 + 0.02 - 0.22) * t1
            c.poly([(xa, ya), (xb, yb), (xb, vy - 0.01), (xa, 0.52)], (60, 80, 110, 200))
    for i in range(5):  # yellow poles
        t = i / 5
        for px in (0.32, 0.68):
            x = px + (vx - px) * t
            c.line([(x, 0.02 + (by0 - 0.02) * t), (x, 0.98 + (by1 - 0.98) * t)], (240, 200, 40), 0.012 * (1 - t) + 0.002)
    c.crowd(0.6, 0.9, 4, 0.3)


def scene_control(c: Canvas) -> None:
    c.gradient(0, 0, 1, 1, (10, 14, 26), (30, 36, 54))
    for row in range(3):
        for col in range(6):
            x0, y0 = 0.04 + col * 0.155, 0.08 + row * 0.17
            c.rect(x0, y0, x0 + 0.145, y0 + 0.16, (16, 40, 70))
            colour = LINE_COLOURS[(row * 6 + col) % len(LINE_COLOURS)]
            pts = [(x0 + 0.01 + k * 0.025, y0 + 0.08 + c.rng.uniform(-0.05, 0.05)) for k in range(6)]
            c.line(pts, colour, 0.005)
            for p in pts:
                c.circle(*p, 0.006, fill=(240, 240, 240))
            c.circle(x0 + 0.13, y0 + 0.02, 0.005, fill=(60, 220, 90) if c.rng.random() < 0.85 else (230, 60, 60))
    c.poly([(0, 0.78), (1, 0.78), (1, 1), (0, 1)], (26, 28, 36))
    c.rect(0.04, 0.74, 0.96, 0.8, (50, 54, 66))
    for i in range(5):
        hx = 0.12 + i * 0.19
        c.rect(hx - 0.04, 0.66, hx + 0.04, 0.75, (40, 60, 90))
        c.circle(hx, 0.86, 0.05, fill=(20, 20, 26))
        c.rect(hx - 0.05, 0.9, hx + 0.05, 1.0, (20, 20, 26), radius=0.02)


def scene_depot(c: Canvas) -> None:
    outdoor(c, 0.42)
    vx, vy = c.rng.uniform(0.35, 0.65), 0.42
    c.gradient(0, 0.42, 1, 1, (120, 116, 110), (80, 76, 72))
    for k in range(-7, 8):  # track pairs fanning out
        for side in (-0.012, 0.012):
            c.line([(vx + k * 0.01 + side * 0.2, vy), (vx + k * 0.16 + side * 2, 1.0)], (200, 200, 206), 0.003)
    for k, depth in ((-3, 0.55), (-1, 0.6), (2, 0.52), (4, 0.66)):
        x = vx + k * 0.07
        train_side(c, x - 0.25, depth - 0.08, 0.3 + 0.1 * (depth - 0.5), 0.05 + 0.1 * (depth - 0.5),
                   LINE_COLOURS[(k + 7) % len(LINE_COLOURS)], c.pal[7], cars=3, nose=False)
    c.rect(0, 0, 1, 0.06, (90, 96, 104))
    for i in range(12):
        c.line([(i / 11, 0.06), (i / 11 + 0.04, 0.0)], (70, 74, 80), 0.004)


def scene_train_front(c: Canvas) -> None:
    c.gradient(0, 0, 1, 1, c.pal[0], c.pal[3])
    if c.pal[7]:
        for _ in range(30):
            c.glow(c.rng.random(), c.rng.uniform(0, 0.4), 0.003, (255, 220, 150), 110)
    c.rect(0, 0.82, 1, 1, (60, 60, 66))
    for side in (-1, 1):
        c.line([(0.5 + side * 0.1, 0.82), (0.5 + side * 0.35, 1.0)], (200, 200, 206), 0.008)
    livery = c.rng.choice(LINE_COLOURS)
    c.poly([(0.28, 0.82), (0.72, 0.82), (0.7, 0.28), (0.62, 0.16), (0.38, 0.16), (0.3, 0.28)], (236, 238, 242))
    c.poly([(0.34, 0.26), (0.66, 0.26), (0.64, 0.5), (0.36, 0.5)], (28, 36, 52))
    c.poly([(0.36, 0.28), (0.46, 0.28), (0.4, 0.46), (0.37, 0.46)], (120, 140, 170, 120))
    c.rect(0.42, 0.19, 0.58, 0.235, (20, 20, 20))
    c.rect(0.43, 0.2, 0.57, 0.225, (250, 170, 40))
    c.rect(0.29, 0.6, 0.71, 0.66, livery)
    for dx in (0.36, 0.64):
        c.glow(dx, 0.7, 0.02, (255, 252, 230), 140)
        c.circle(dx, 0.7, 0.022, fill=(255, 252, 236))
    c.rect(0.44, 0.74, 0.56, 0.8, (60, 60, 70), radius=0.01)


def scene_train_side(c: Canvas) -> None:
    outdoor(c, 0.5)
    skyline(c, 0.5, c.pal[4], 0.05, 0.2, c.pal[7])
    c.rect(0, 0.5, 1, 0.62, mix(c.pal[2], (120, 140, 110), 0.4))
    c.rect(0, 0.78, 1, 1, mix(c.pal[3], (90, 86, 80), 0.5))
    for i in range(40):  # sleepers and rails
        c.rect(i / 40, 0.79, i / 40 + 0.012, 0.82, (96, 80, 64))
    c.rect(0, 0.785, 1, 0.792, (200, 200, 206))
    train_side(c, -0.12, 0.34, 1.1, 0.38, c.rng.choice(LINE_COLOURS), c.pal[7], cars=2)


def scene_wheel(c: Canvas) -> None:
    c.gradient(0, 0, 1, 1, c.pal[0], c.pal[3])
    c.rect(0, 0.8, 1, 1, (90, 92, 98))
    for i in range(8):
        c.line([(0, 0.84 + i * 0.02), (1, 0.84 + i * 0.02)], (70, 70, 76), 0.002)
    c.rect(0.12, 0.38, 0.88, 0.52, (60, 66, 78), radius=0.02)  # bogie frame
    for wx in (0.3, 0.7):
        c.circle(wx, 0.62, 0.18, fill=(110, 112, 118))
        c.circle(wx, 0.62, 0.16, fill=(150, 152, 158))
        c.circle(wx, 0.62, 0.05, fill=(60, 62, 70))
        for k in range(8):
            a = k * math.pi / 4
            c.line([(wx, 0.62), (wx + 0.13 * math.cos(a) * c.H / c.W, 0.62 + 0.13 * math.sin(a))], (120, 122, 128), 0.01)
    for sx in (0.45, 0.55):  # springs
        c.line([(sx + (0.015 if k % 2 else -0.015), 0.28 + k * 0.02) for k in range(6)], (220, 70, 50), 0.012)
    c.rect(0.1, 0.2, 0.9, 0.28, (210, 214, 220))
    c.person(0.9, 0.95, 0.45, (30, 80, 150))
    c.person(0.08, 0.97, 0.42, (250, 120, 30))


def scene_future(c: Canvas) -> None:
    outdoor(c, 0.66)
    skyline(c, 0.66, c.pal[5], 0.1, 0.3, True)
    glow = (90, 220, 240)
    pts = [(x / 20, 0.62 - 0.18 * math.sin(math.pi * x / 20) + 0.05 * x / 20) for x in range(21)]
    for w, a in ((0.05, 40), (0.03, 80), (0.012, 200)):
        c.line(pts, (*glow, a), w)
    for x in range(2, 20, 3):
        px, py = pts[x]
        c.line([(px, py), (px, 0.95)], (120, 130, 150), 0.01)
    i0 = c.rng.randint(3, 8)
    body = [(pts[i][0], pts[i][1] - 0.05) for i in range(i0, i0 + 8)]
    c.line(body, (236, 244, 250), 0.07)
    c.line([(x, y - 0.008) for x, y in body], (40, 60, 90), 0.02)
    c.line([(x, y + 0.02) for x, y in body], glow, 0.006)
    c.circle(*body[-1], 0.035, fill=(236, 244, 250))
    c.rect(0, 0.9, 1, 1, (30, 36, 50))


def scene_map(c: Canvas) -> None:
    c.gradient(0, 0, 1, 1, c.pal[0], c.pal[1])
    for i in range(1, 20):
        c.line([(i / 20, 0), (i / 20, 1)], (*c.pal[4], 120), 0.0015)
        c.line([(0, i / 14), (1, i / 14)], (*c.pal[4], 120), 0.0015)
    river = [(x / 10, 0.55 + 0.12 * math.sin(x * 0.9 + c.rng.random())) for x in range(11)]
    c.line(river, (*c.pal[5], 160), 0.05)
    stations: list[tuple[float, float]] = []
    dashed = c.pal is PALETTES["paper2"]
    for n, colour in enumerate(LINE_COLOURS[:6]):
        x, y = c.rng.uniform(0.05, 0.25), c.rng.uniform(0.1, 0.9)
        path = [(x, y)]
        for _ in range(6):
            step = c.rng.uniform(0.08, 0.16)
            dy = c.rng.choice([-1, 0, 0, 1]) * step * c.W / c.H * 0.7
            x, y = x + step, min(0.92, max(0.08, y + dy))
            path.append((x, y))
        if dashed and n >= 4:  # planned lines: dashed
            for a, b in zip(path, path[1:], strict=False):
                for t in range(0, 10, 2):
                    p0 = (a[0] + (b[0] - a[0]) * t / 10, a[1] + (b[1] - a[1]) * t / 10)
                    p1 = (a[0] + (b[0] - a[0]) * (t + 1) / 10, a[1] + (b[1] - a[1]) * (t + 1) / 10)
                    c.line([p0, p1], colour, 0.012)
        else:
            c.line(path, colour, 0.012)
        stations += path
    for sx, sy in stations:
        big = any(abs(sx - ox) < 0.03 and abs(sy - oy) < 0.04 for ox, oy in stations if (ox, oy) != (sx, sy))
        c.circle(sx, sy, 0.018 if big else 0.011, fill=(255, 255, 255), outline=(40, 40, 40), width=0.004)


SCENES = {name[6:]: fn for name, fn in globals().items() if name.startswith("scene_")}


@functools.lru_cache(maxsize=8)
def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    if not FONT_FILE.is_file():
        return None
    try:  # BASIC layout: the same glyph positions whether or not libraqm is installed
        return ImageFont.truetype(str(FONT_FILE), size, index=FONT_INDEX, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        return None


def caption_band(img: Image.Image, title: str, subtitle: str, band: float = 0.075) -> None:
    """A translucent band along the bottom with the title (and the exhibition name at the right)."""
    W, H = img.size
    bh = max(12, round(H * band))
    d = ImageDraw.Draw(img, "RGBA")
    d.rectangle([0, H - bh, W, H], fill=(0, 0, 0, 120))
    font = cjk_font(max(10, round(bh * 0.46)))
    if font is None:
        return
    pad = round(bh * 0.4)
    d.text((pad, H - bh / 2), title, font=font, fill=(255, 255, 255), anchor="lm")
    small = cjk_font(max(8, round(bh * 0.3)))
    if subtitle and small is not None and d.textlength(title, font=font) + d.textlength(subtitle, font=small) + 3 * pad < W:
        d.text((W - pad, H - bh / 2), subtitle, font=small, fill=(230, 230, 230), anchor="rm")


def draw_photo(spec: PhotoSpec, size: tuple[int, int], title: str) -> Image.Image:
    """The upright picture of ``spec``."""
    img = Image.new("RGB", size, (128, 128, 128))
    canvas = Canvas(img, random.Random(spec.seed), PALETTES[spec.palette])
    SCENES[spec.scene](canvas)
    img = img.filter(ImageFilter.GaussianBlur(radius=max(0.4, size[0] / 2400)))  # soften the hard polygon edges
    caption_band(img, title, EXHIBITION)
    return img


def photo_exif(spec: PhotoSpec) -> Image.Exif:
    """Camera, date and GPS (a fictional spot around 示例市) plus the orientation tag."""
    rng = random.Random(spec.seed * 7 + 1)
    exif = Image.Exif()
    exif[0x010F] = "Zhuanti Sample Camera"   # Make
    exif[0x0110] = "ZS-1"                    # Model
    exif[0x0131] = "make_sample_media.py"    # Software
    taken = f"2026:{rng.randint(3, 10):02d}:{rng.randint(1, 28):02d} {rng.randint(6, 21):02d}:{rng.randint(0, 59):02d}:00"
    exif[0x0132] = taken                     # DateTime
    exif[0x0112] = spec.orientation          # Orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken                      # DateTimeOriginal
    lat, lon = 39.85 + rng.random() * 0.15, 116.3 + rng.random() * 0.2
    exif[0x8825] = {0: b"\x02\x03\x00\x00", 1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon), 5: 0, 6: 48.0}
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 2)


def stored_pixels(img: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for an upright picture it tags with ``orientation``:
    6 means "rotate 90° clockwise to display", so the stored picture is the upright one turned
    90° counter-clockwise; 8 is the reverse."""
    if orientation == 6:
        return img.transpose(Image.Transpose.ROTATE_90)
    if orientation == 8:
        return img.transpose(Image.Transpose.ROTATE_270)
    return img


def make_photo(spec: PhotoSpec, dest: str, size: tuple[int, int], title: str) -> int:
    """Draw and write one JPEG (atomically); returns its size in bytes."""
    img = stored_pixels(draw_photo(spec, size, title), spec.orientation)
    path = Path(dest)
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, "JPEG", quality=82, optimize=True, exif=photo_exif(spec).tobytes())
    os.replace(tmp, path)
    return path.stat().st_size


# ---------------------------------------------------------------- videos

def ffmpeg_path() -> str:
    """imageio-ffmpeg's static build (a dependency, the same version everywhere): the sample clips
    need ``-display_rotation`` (ffmpeg ≥ 6), which a distribution's ffmpeg (Debian 12: 5.1) lacks."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def container(name: str) -> str:
    """ffmpeg's muxer for a file name (temporary files do not end in the real extension)."""
    return {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}[Path(name).suffix.lower()]


def title_card(path: Path, size: tuple[int, int], number: str, title: str) -> bool:
    """Transparent PNG overlay: series name and episode title in a lower third. False without a font."""
    W, H = size
    if cjk_font(12) is None:
        return False
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    band_top = round(H * 0.7)
    d.rectangle([0, band_top, W, round(H * 0.92)], fill=(10, 40, 80, 190))
    d.rectangle([0, band_top, round(W * 0.015), round(H * 0.92)], fill=(200, 40, 40, 255))
    big = cjk_font(max(10, round(min(W, H) * 0.075)))
    small = cjk_font(max(8, round(min(W, H) * 0.05)))
    pad = round(W * 0.04)
    d.text((pad, band_top + round(H * 0.055)), f"{SERIES}　{number}", font=small, fill=(255, 220, 120), anchor="lm")
    text = re.sub(r"^第[一二三四五六七八九十百0-9]+集[\s　]*", "", title) or title  # the number is on the line above
    while text and d.textlength(text, font=big) > W - 2 * pad:
        text = text[:-1]
    d.text((pad, band_top + round(H * 0.14)), text, font=big, fill=(255, 255, 255), anchor="lm")
    d.text((W - pad, round(H * 0.06)), "示例市规划和自然资源委员会", font=small, fill=(255, 255, 255, 200), anchor="rm")
    img.save(path)
    return True


def picture_graph(spec: EpisodeSpec, size: tuple[int, int], seconds: float) -> str:
    w, h = size
    s = f"s={w}x{h}:r=25"
    sources = {
        "gradients": f"gradients={s}:c0=0x1d4e89:c1=0x2a9d8f:c2=0xe9c46a:nb_colors=3:seed=7:speed=0.03:d={seconds:g}",
        # Cellular sources on a coarse grid, scaled up: city blocks rather than noise (and small files).
        "life": f"life=s={w // 8}x{h // 8}:r=25:seed=11:ratio=0.2:mold=12:life_color=0xf4d35e:death_color=0x0d3b66"
                f":mold_color=0x3c6e71,scale={w}:{h}:flags=neighbor",
        "cellauto": f"cellauto=s={w // 4}x{h // 4}:r=25:rule=90:seed=5:ratio=0.02,"
                    f"lutrgb=r='val*0.2':g='val*0.6':b='val*0.9',scale={w}:{h}:flags=neighbor",
        "mandelbrot": f"mandelbrot={s}:maxiter=120:start_scale=2.5:end_scale=0.6:end_pts=200:inner=black",
        "smptehdbars": f"smptehdbars={s}",
        "testsrc2": f"testsrc2={s}",
    }
    return sources[spec.source]


def video_command(exe: str, spec: EpisodeSpec, size: tuple[int, int], seconds: float, card: Path | None,
                  dest: Path) -> list[str]:
    """ffmpeg argv for one episode written to ``dest`` (container named by the spec's extension)."""
    args = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            picture_graph(spec, size, seconds)]
    if card is not None:
        args += ["-loop", "1", "-framerate", "25", "-i", str(card)]
    if spec.tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={spec.tone:g}:sample_rate=48000"]
    chain = "[0:v]format=yuv420p[bg];"
    chain += "[bg][1:v]overlay=0:0:shortest=1,format=yuv420p" if card is not None else "[bg]null"
    if spec.portrait_phone:
        chain += ",transpose=cclock"  # stored landscape; the display matrix turns it upright
    args += ["-filter_complex", chain + "[v]", "-map", "[v]"]
    if spec.tone is not None:
        args += ["-map", f"{2 if card is not None else 1}:a", "-af", "volume=0.3"]
        args += ["-c:a", spec.audio_codec, "-b:a", "64k", "-ac", "1", "-flags:a", "+bitexact"]
    else:
        args += ["-an"]
    if spec.video_codec == "libx264":
        args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-threads", "2"]
    else:
        args += ["-c:v", spec.video_codec, "-q:v", "6"]
    args += ["-t", f"{seconds:g}", "-pix_fmt", "yuv420p", "-flags:v", "+bitexact", "-fflags", "+bitexact",
             "-map_metadata", "-1"]
    return [*args, "-f", container(spec.name), str(dest)]


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): {' '.join(argv)}\n"
                           f"{done.stderr.decode('utf-8', 'replace')}")


def make_episode(spec: EpisodeSpec, dest: str, size: tuple[int, int], seconds: float, title: str) -> int:
    """Encode one episode (atomically); returns its size in bytes."""
    exe = ffmpeg_path()
    path = Path(dest)
    with tempfile.TemporaryDirectory(prefix="zhuanti-sample-") as work:
        card = Path(work) / "card.png"
        has_card = title_card(card, size, spec.number, title)
        plain = Path(work) / f"plain{path.suffix}"
        run(video_command(exe, spec, size, seconds, card if has_card else None, plain))
        tmp = path.with_name(f".{path.name}.tmp")
        if spec.portrait_phone:
            # ffmpeg ≥ 6 ignores "-metadata:s:v rotate"; the display matrix is set on an input.
            run([exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-display_rotation", "-90",
                 "-i", str(plain), "-map", "0", "-c", "copy", "-fflags", "+bitexact", "-f", container(spec.name),
                 str(tmp)])
        else:
            os.replace(plain, tmp)
        os.replace(tmp, path)
    return path.stat().st_size


# ---------------------------------------------------------------- bookkeeping and main

@functools.lru_cache(maxsize=1)
def generator_digest() -> str:
    """Digest of this script: editing how anything is drawn or encoded remakes every file."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def spec_digest(kind: str, spec, size: tuple[int, int], extra: dict) -> str:
    data = {"generator": generator_digest(), "kind": kind, "spec": asdict(spec), "size": size,
            "font": FONT_FILE.is_file(), **extra}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def load_state(root: Path) -> dict:
    try:
        return json.loads((root / STATE_FILE).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}


def save_state(root: Path, files: dict) -> None:
    path = root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"files": files}, ensure_ascii=False, indent=1,
                              sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def up_to_date(root: Path, rel: str, digest: str, state: dict) -> bool:
    known = state.get(rel)
    try:
        size = (root / rel).stat().st_size
    except OSError:
        return False
    return bool(known) and known.get("digest") == digest and known.get("size") == size


def plan(root: Path, quick: bool) -> tuple[list[tuple], list[tuple]]:
    """(photo jobs, video jobs): (spec, dest, size, title[, seconds], digest) for every file."""
    photos = []
    for spec in photo_specs():
        dest = root / spec.rel
        title = sidecar_title(dest) or spec.part
        size = photo_size(spec, quick)
        photos.append((spec, dest, size, title, spec_digest("photo", spec, size, {"title": title})))
    videos = []
    for spec in EPISODES:
        dest = root / spec.rel
        title = sidecar_title(dest) or spec.number
        size = episode_size(spec, quick)
        seconds = 1.0 if quick else spec.seconds
        videos.append((spec, dest, size, title, seconds,
                       spec_digest("video", spec, size, {"title": title, "seconds": seconds})))
    return photos, videos


def generate(root: Path, quick: bool = False, force: bool = False, jobs: int | None = None) -> dict:
    """Make every missing or outdated photo and video under ``root``; returns counts and sizes."""
    started = time.perf_counter()
    root = Path(root).resolve()
    state = {} if force else load_state(root)
    photos, videos = plan(root, quick)
    new_state: dict[str, dict] = {}
    made = {"photos": 0, "videos": 0}
    todo_photos = []
    for spec, dest, size, title, digest in photos:
        if up_to_date(root, spec.rel, digest, state):
            new_state[spec.rel] = state[spec.rel]
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            todo_photos.append((spec, dest, size, title, digest))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo_photos) or 1))
    futures = []
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures += [(spec, digest, pool.submit(make_photo, spec, str(dest), size, title))
                       for spec, dest, size, title, digest in todo_photos]
            # Videos encode here while the pool draws photos: ffmpeg and Pillow share the cores.
            for spec, dest, size, title, seconds, digest in videos:
                if up_to_date(root, spec.rel, digest, state):
                    new_state[spec.rel] = state[spec.rel]
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                new_state[spec.rel] = {"digest": digest, "size": make_episode(spec, str(dest), size, seconds, title)}
                made["videos"] += 1
            for spec, digest, future in futures:
                new_state[spec.rel] = {"digest": digest, "size": future.result()}
                made["photos"] += 1
    finally:  # what was finished is recorded even when something failed: the next run skips it
        for spec, digest, future in futures:
            if spec.rel not in new_state and future.done() and not future.cancelled() and not future.exception():
                new_state[spec.rel] = {"digest": digest, "size": future.result()}
        save_state(root, new_state)
    photo_bytes = sum(new_state[s.rel]["size"] for s, *_ in photos)
    video_bytes = sum(new_state[s.rel]["size"] for s, *_ in videos)
    return {"photos": len(photos), "videos": len(videos), "made_photos": made["photos"], "made_videos": made["videos"],
            "photo_bytes": photo_bytes, "video_bytes": video_bytes, "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO, help="site root (default: this repository)")
    parser.add_argument("--quick", action="store_true", help="tiny media for tests (640 px photos, 1 s 320x180 clips)")
    parser.add_argument("--force", action="store_true", help="regenerate every file, even those up to date")
    parser.add_argument("--jobs", type=int, default=None, help="processes drawing photos (default: one per CPU)")
    args = parser.parse_args(argv)
    if not (args.root / "site_src" / "site.toml").is_file():
        parser.error(f"{args.root}: not a site (no site_src/site.toml)")
    r = generate(args.root, quick=args.quick, force=args.force, jobs=args.jobs)
    print(f"照片 {r['photos']} 张（新生成 {r['made_photos']}，{r['photo_bytes'] / 1e6:.1f} MB），"
          f"视频 {r['videos']} 段（新生成 {r['made_videos']}，{r['video_bytes'] / 1e6:.1f} MB），用时 {r['seconds']:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
