"""Blueprints (蓝本) for ``zhuanti new topic``: folders of templated files, like Hugo's directory archetypes.

A blueprint is a folder: every file in it is a Jinja2 template rendered with ``title``, ``slug``,
``today`` and ``year`` (filters ``toml`` and ``yaml`` quote a value for those formats) and written
under ``topics/<slug>/``. ``blueprint.toml`` (itself a template) holds a ``description`` and the
sample media to generate: ``[[media]] file = "photos/p01.jpg"`` (a photo drawn with Pillow, with
optional ``portrait = true``) or ``file = "videos/ep01.mp4"`` with ``seconds`` and ``size`` (an
ffmpeg lavfi clip). A ``*.xlsx.csv`` file becomes the Excel file ``*.xlsx``. Binary files are never
shipped. Built-in blueprints live in ``builder/data/blueprints/``; a site adds or overrides its own in
``site_src/blueprints/<name>/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import tempfile
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from builder.config import confine
from builder.errors import ConfigError
from builder.i18n import tr
from builder.resources import package_dir

DESCRIPTION_FILE = "blueprint.toml"
XLSX_FROM_CSV = ".xlsx.csv"
# Names of the first zhuanti versions, kept working.
ALIASES = {"default": "standard", "data": "data-list"}
FONT_CANDIDATES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                   "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
                   "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@dataclass
class Blueprint:
    name: str
    folder: Path
    description: str = ""
    site_own: bool = False
    within: Path | None = None  # where its files really are (symbolic links followed); None: anywhere


@dataclass
class Rendered:
    """A blueprint rendered for one topic: text files, Excel sheets and media to generate."""

    files: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)  # target .xlsx → CSV text
    media: list[dict] = field(default_factory=list)


def builtin_dir() -> Path:
    return package_dir("builder", "data", "blueprints")


def available(root: Path) -> dict[str, Blueprint]:
    """Built-in blueprints, then the site's own (``site_src/blueprints/<name>/``, which win)."""
    found: dict[str, Blueprint] = {}
    for base, own in ((builtin_dir(), False), (root / "site_src" / "blueprints", True)):
        if not base.is_dir():
            continue
        within = root.resolve() if own else None  # a site's own blueprint is confined to the site
        for d in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            found[d.name] = Blueprint(d.name, d, _description(d, within), own, within)
    return found


def _description(folder: Path, within: Path | None) -> str:
    path = folder / DESCRIPTION_FILE
    if not path.is_file() or (within is not None and not path.resolve().is_relative_to(within)):
        return ""  # render() refuses it, naming it
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("description"):
            try:
                return str(tomllib.loads(line).get("description", ""))
            except tomllib.TOMLDecodeError:
                return ""
    return ""


def find(root: Path, name: str) -> Blueprint:
    known = available(root)
    wanted = name if name in known else ALIASES.get(name, name)
    if wanted not in known:
        listing = "\n".join(f"  {b.name}：{b.description}" if b.description else f"  {b.name}" for b in known.values())
        raise ConfigError(tr("没有蓝本 “{b}”。可用的蓝本：\n{a}", "no blueprint '{b}'. Known blueprints:\n{a}",
                             b=name, a=listing), "--blueprint",
                          hint=tr("站点自己的蓝本放在 site_src/blueprints/<名称>/。",
                                  "a site's own blueprints go in site_src/blueprints/<name>/."))
    return known[wanted]


def _toml(value: object) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(str(value), ensure_ascii=False)


def _yaml(value: object) -> str:
    # A JSON string is a valid YAML double-quoted scalar: colons, quotes and '#' stay text.
    return json.dumps(str(value), ensure_ascii=False)


def render(bp: Blueprint, variables: dict) -> Rendered:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(bp.folder)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    env.filters.update(toml=_toml, yaml=_yaml)
    out = Rendered()
    for path in sorted(p for p in bp.folder.rglob("*") if p.is_file()):
        rel = path.relative_to(bp.folder).as_posix()
        if "__pycache__" in rel or path.name.startswith("."):
            continue
        if bp.within is not None:  # its text is written into the new topic and published
            confine(bp.within, path, path, os.path.relpath(path, bp.within))
        try:
            text = env.get_template(rel).render(variables)
        except jinja2.TemplateError as exc:
            raise ConfigError(tr("蓝本文件有错误：{e}", "error in a blueprint file: {e}", e=exc), path,
                              line=getattr(exc, "lineno", None)) from None
        except UnicodeDecodeError:
            raise ConfigError(tr("蓝本中只能有 UTF-8 文本文件（图片和视频由 blueprint.toml 生成）",
                                 "a blueprint holds UTF-8 text files only (photos and videos are generated from "
                                 "blueprint.toml)"), path) from None
        if rel == DESCRIPTION_FILE:
            try:
                spec = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(tr("blueprint.toml 格式错误：{e}", "blueprint.toml is not valid TOML: {e}", e=exc),
                                  path) from None
            out.media = list(spec.get("media", []))
        elif rel.endswith(XLSX_FROM_CSV):
            out.sheets[rel[: -len(".csv")]] = text
        else:
            out.files[rel] = text
    return out


# ---- sample media ----------------------------------------------------------------------------

def _font(size: int):
    from PIL import ImageFont

    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            try:
                return ImageFont.truetype(candidate, size, index=2 if candidate.endswith(".ttc") else 0)
            except OSError:
                continue
    return ImageFont.load_default()


def _caption_of(sidecar_text: str | None, fallback: str) -> str:
    if sidecar_text:
        for line in sidecar_text.splitlines():
            if line.startswith("title:"):
                return line.split(":", 1)[1].strip().strip('"') or fallback
    return fallback


def make_photo(path: Path, caption: str, portrait: bool = False, seed: int = 0) -> None:
    """A tasteful placeholder photo: a sky gradient, hills, a skyline and the caption."""
    from PIL import Image, ImageDraw

    w, h = (800, 1200) if portrait else (1200, 800)
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    hue = seed % 5
    top = [(38, 84, 124), (164, 20, 28), (46, 110, 82), (120, 72, 140), (200, 120, 40)][hue]
    bottom = (245, 230, 200)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    draw.ellipse([w * 0.68, h * 0.12, w * 0.82, h * 0.12 + w * 0.14], fill=(255, 236, 180))
    for i, shade in enumerate(((90, 110, 90), (60, 80, 70))):
        base = h * (0.62 + 0.1 * i)
        pts = [(0, h)] + [(x, base - 60 * abs(((x + seed * 37 + i * 90) % 400) / 200 - 1)) for x in range(0, w + 40, 40)]
        draw.polygon(pts + [(w, h)], fill=shade)
    x = int(w * 0.05)
    r = seed * 7919
    while x < w * 0.95:
        bw, bh = 30 + r % 50, int(h * 0.12) + r % int(h * 0.2)
        draw.rectangle([x, h * 0.82 - bh, x + bw, h * 0.82], fill=(70, 70, 80))
        x += bw + 6
        r = (r * 1103515245 + 12345) % 2**31
    draw.rectangle([0, h * 0.82, w, h], fill=(50, 50, 55))
    font = _font(max(28, w // 22))
    draw.rectangle([0, h - h * 0.1, w, h], fill=(0, 0, 0))
    draw.text((w * 0.04, h - h * 0.085), caption, fill=(255, 255, 255), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=85)


def make_video(path: Path, caption: str, seconds: float, size: tuple[int, int]) -> None:
    """A short H.264/AAC clip from ffmpeg's lavfi sources with the caption as a title card."""
    import imageio_ffmpeg
    from PIL import Image, ImageDraw

    w, h = size
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "card.png"
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, h * 0.4, w, h * 0.6], fill=(164, 20, 28, 220))
        font = _font(max(18, min(w, h) // 14))
        draw.text((w * 0.06, h * 0.44), caption, fill=(255, 255, 255, 255), font=font)
        img.save(card)
        path.parent.mkdir(parents=True, exist_ok=True)
        argv = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=25", "-loop", "1", "-framerate", "25", "-i", str(card),
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-filter_complex", "[0:v][1:v]overlay=0:0:shortest=1,format=yuv420p[v]", "-map", "[v]", "-map", "2:a",
                "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-c:a", "aac", "-b:a", "64k",
                "-ac", "1", "-af", "volume=0.2", "-movflags", "+faststart", str(path)]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigError(tr("示例视频生成失败：{e}", "making the sample video failed: {e}",
                                 e=done.stderr.strip()[-300:]), path)


def make_xlsx(path: Path, csv_text: str, sheet: str = "Sheet1") -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in csv.reader(io.StringIO(csv_text)):
        if row:
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def write(rendered: Rendered, target: Path, on_file=None) -> list[str]:
    """Write a rendered blueprint into ``target`` (which must not exist yet); returns the files made."""
    made: list[str] = []
    for rel, text in rendered.files.items():
        p = target / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        made.append(rel)
    for rel, text in rendered.sheets.items():
        make_xlsx(target / rel, text)
        made.append(rel)
    for item in rendered.media:
        rel = str(item.get("file", ""))
        if not rel or rel.startswith(("/", "..")) or "/../" in rel:
            raise ConfigError(tr("blueprint.toml 中的 media.file 必须是专题内的相对路径：“{f}”",
                                 "media.file in blueprint.toml must be a relative path inside the topic: '{f}'", f=rel),
                              DESCRIPTION_FILE, field="media.file")
        dest = target / rel
        caption = _caption_of(rendered.files.get(rel + ".yaml"), Path(rel).stem)
        if on_file:
            on_file(rel)
        if dest.suffix.lower() in (".jpg", ".jpeg", ".png"):
            make_photo(dest, caption, bool(item.get("portrait")), seed=zlib.crc32(rel.encode()))
        else:
            size = item.get("size") or [640, 360]
            make_video(dest, caption, float(item.get("seconds", 4)), (int(size[0]), int(size[1])))
        made.append(rel)
    return made
