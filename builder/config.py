"""site.toml and topic.toml as typed, validated dataclasses.

The dataclasses *are* the schema (as in MkDocs' config/defaults.py): a field's annotation is the
type a value must have, and unknown keys are named together with the closest valid one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import clock
from builder.errors import ConfigError
from builder.i18n import tr

CACHE_DIR = ".zhuanti-cache"
MARKDOWN_ENGINES = ("pyromark", "cmarkgfm", "python-markdown")  # builder.render.engines


@dataclass
class IdentityConfig:
    """Footer identity printed on every page (网站标识码, ICP 备案号, 公安备案号, 主办单位)."""

    site_code: str = ""
    icp: str = ""
    police_record: str = ""
    organizer: str = ""
    contact: str = ""
    address: str = ""


@dataclass
class CheckConfig:
    """[check]: inspection policy."""

    allowed_domains: list[str] = field(default_factory=lambda: ["gov.cn"])
    fail_on: str = "error"
    external_timeout: float = 10.0
    external_concurrency: int = 4
    external_cache_hours: float = 24.0
    # --external: the whole HTTP pass stops after this many seconds (unchecked URLs are reported
    # as info); at most this many redirects are followed; URLs matching these regexes are skipped.
    external_deadline: float = 600.0
    external_max_redirects: int = 10
    external_exclude: list[str] = field(default_factory=list)
    # link.external-domain: a link to a domain under one of these top-level domains is an error
    # (domains named in allowed_domains excepted).
    risky_tlds: list[str] = field(default_factory=lambda: [
        "xyz", "top", "tk", "ml", "ga", "cf", "gq", "pw", "icu", "buzz", "cyou", "sbs", "cfd", "rest",
        "bar", "monster", "bet", "casino", "poker", "win", "loan", "click", "vip", "cc"])
    traditional_to_simplified: bool = False
    news_stale_days: int = 14
    notice_stale_days: int = 183


@dataclass
class MediaConfig:
    """[media]: renditions made from photos and videos."""

    video_heights: list[int] = field(default_factory=lambda: [1080, 720, 480])
    video_crf: int = 23
    video_maxrate_kbps: int = 5000
    video_preset: str = "medium"
    hls_min_seconds: float = 600.0
    hls_time: float = 4.0                    # HLS segment length, seconds
    video_audio_kbps: int = 128              # AAC bitrate of every rendition
    video_poster_fraction: float = 0.1       # poster frame at this share of the length …
    video_poster_seconds: float | None = None  # … or at this second when set
    image_widths: list[int] = field(default_factory=lambda: [480, 960, 1600])
    jpeg_quality: int = 85
    webp_quality: int = 80
    max_image_pixels: int = 120_000_000


@dataclass
class BuildConfig:
    """[build]: how pages are produced."""

    paginate: int = 20
    minify: bool = True
    # "error" fails the build on a Markdown link to a missing source; "warning" keeps going
    # (Hugo's refLinksErrorLevel).
    source_link_errors: str = "error"
    # Raw HTML in Markdown is sanitized (scripts, event handlers, javascript:/data: URLs removed);
    # true publishes it as written (the site's editors are trusted; `check` still runs on the result).
    unsafe_html: bool = False
    # builder.render.engines: "pyromark" (default), "cmarkgfm" or "python-markdown"
    markdown_engine: str = "pyromark"
    # media jobs: "local" (process/thread pools) or "dask://HOST[:PORT]" (media_pipeline/executor.py)
    executor: str = "local"
    # site search (builder/search): the /search/ page, its index and the header box;
    # false when the portal's own search serves the site
    search: bool = True


@dataclass
class MobileConfig:
    """[mobile]: separate mobile pages under /<prefix>/… (手机版) for portals that require them; a
    theme may give any template a ``*.mobile.html`` variant."""

    separate: bool = False
    prefix: str = "m"
    # the media query of the desktop page's <link rel="alternate"> pointing at its mobile page
    max_width: int = 640


@dataclass
class SiteConfig:
    """site_src/site.toml."""

    title: str = "专题网站"
    base_url: str = "/"
    language: str = "zh-CN"
    # IANA time zone of "today", of dates written without a zone, and of dates shown on pages.
    timezone: str = "Asia/Shanghai"
    theme: str = "default"
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    output: str = "public"
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    mobile: MobileConfig = field(default_factory=MobileConfig)
    publish: dict[str, dict] = field(default_factory=dict)
    # set by load_site_config, not read from the file
    root: Path = field(default=Path("."), metadata={"internal": True})
    warnings: list[str] = field(default_factory=list, metadata={"internal": True})

    @property
    def output_dir(self) -> Path:
        return confine(self.root, self.root / self.output, self.root / "site_src/site.toml", "output")

    @property
    def cache_dir(self) -> Path:
        return confine(self.root, self.root / CACHE_DIR, self.root / CACHE_DIR, CACHE_DIR)

    @property
    def site_domain(self) -> str:
        m = re.match(r"^[a-z]+://([^/:]+)", self.base_url)
        return m.group(1) if m else ""


@dataclass
class TopicConfig:
    """topics/<slug>/topic.toml."""

    title: str = ""
    summary: str = ""
    cover: str = ""
    blueprint: str = "default"
    start: dt.date | None = None
    end: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    internal_tags: list[str] = field(default_factory=list)  # media/page tags for staff only: never shown
    groups: list[str] = field(default_factory=list)
    weight: int = 0
    draft: bool = False
    archived: bool = False
    columns: list[str] = field(default_factory=list)  # column order on the navigation page
    template: str = ""


COLUMN_TYPES = ("工作动态", "通知公告", "政策文件", "政策解读", "数据发布", "办事服务", "专题专栏", "其他")


def confine(root: Path, path: Path, source: Path | str, what: str) -> Path:
    """Resolve ``path`` (following symbolic links) and refuse it when it leaves ``root``: nothing is
    read from or written to outside the site."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        shown = path if resolved == path else f"{path} → {resolved}"
        raise ConfigError(tr("“{w}” 指向站点目录之外：{p}", "'{w}' points outside the site root: {p}", w=what, p=shown),
                          source, field=what,
                          hint=tr("请使用站点目录内的相对路径，不要用指向站点外的符号链接。",
                                  "use a path inside the site folder, not a symbolic link to outside it."))
    return resolved


def closest(name: str, options: typing.Iterable[str]) -> str | None:
    match = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return match[0] if match else None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str, source: Path) -> Any:
    """Check ``value`` against annotation ``tp``; returns the value (dates parsed from strings)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where, source)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            value = [value] if isinstance(value, str | int) else value
        if not isinstance(value, list):
            raise _type_error(where, "list", value, source)
        return [_coerce(v, item, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _type_error(where, "table", value, source)
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _type_error(where, "table", value, source)
        return build_dataclass(tp, value, source, prefix=where + ".")
    if tp is dt.date:
        parsed = None
        if isinstance(value, dt.datetime):
            parsed = value.date()
        elif isinstance(value, dt.date):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if parsed is None:
            raise _type_error(where, "date (YYYY-MM-DD)", value, source)
        if not clock.in_range(parsed):
            raise ConfigError(tr("“{w}” 的日期 {v} 超出可用范围（{a}–{b} 年）", "'{w}': date {v} is out of range (years {a}–{b})",
                                 w=where, v=parsed, a=clock.MIN_YEAR, b=clock.MAX_YEAR), source, field=where)
        return parsed
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is Path:
        return Path(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise _type_error(where, _type_name(tp), value, source)
    return value


def _type_error(where: str, expected: str, value: Any, source: Path) -> ConfigError:
    return ConfigError(tr("“{w}” 应为 {e}，实际是 {v!r}", "'{w}' must be {e}, got {v!r}", w=where, e=expected, v=value),
                       source, field=where)


def build_dataclass(cls: type, data: dict, source: Path, prefix: str = "", warnings: list[str] | None = None):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            guess = closest(key, fields)
            raise ConfigError(
                tr("未知配置项 “{k}”", "unknown setting '{k}'", k=prefix + key), source, field=prefix + key,
                hint=tr("是否想写 “{g}”？", "did you mean '{g}'?", g=prefix + guess) if guess else
                tr("可用的配置项：{a}", "valid settings: {a}", a=", ".join(fields)))
        kwargs[key] = _coerce(value, hints[key], prefix + key, source)
    return cls(**kwargs)


def read_toml(path: Path) -> dict:
    if path.is_dir():
        raise ConfigError(tr("配置文件是一个目录，不是文件", "the configuration file is a folder, not a file"), path,
                          hint=tr("请删除或改名这个目录，并写一个 TOML 文件。", "remove or rename the folder and write a TOML file."))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(tr("找不到配置文件", "configuration file not found"), path,
                          hint=tr("请在站点目录中运行，或用 --root 指定站点目录；新站点用 zhuanti init 创建。",
                                  "run inside a site folder or pass --root; create one with 'zhuanti init'.")) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(tr("配置文件不是 UTF-8 编码", "configuration file is not UTF-8"), path,
                          hint=tr("请用 UTF-8 编码保存。", "save it as UTF-8.")) from exc
    except OSError as exc:
        raise ConfigError(tr("无法读取配置文件：{e}", "cannot read the configuration file: {e}", e=exc.strerror or exc),
                          path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(tr("TOML 语法错误：{e}", "TOML syntax error: {e}", e=exc), path,
                          line=int(m.group(1)) if m else None,
                          hint=tr("请检查引号、方括号和等号。", "check quotes, brackets and '=' signs.")) from exc


def load_site_config(root: Path) -> SiteConfig:
    path = root / "site_src" / "site.toml"
    cfg = build_dataclass(SiteConfig, read_toml(path), path)
    cfg.root = root.resolve()
    if cfg.check.fail_on not in ("error", "warning", "info"):
        raise ConfigError(tr("fail_on 只能是 error、warning 或 info", "fail_on must be error, warning or info"),
                          path, field="check.fail_on")
    if cfg.build.source_link_errors not in ("error", "warning"):
        raise ConfigError(tr("source_link_errors 只能是 error 或 warning", "source_link_errors must be error or warning"),
                          path, field="build.source_link_errors")
    if cfg.build.markdown_engine not in MARKDOWN_ENGINES:
        guess = closest(cfg.build.markdown_engine, MARKDOWN_ENGINES)
        raise ConfigError(tr("markdown_engine 只能是 {a}", "markdown_engine must be one of {a}",
                             a=", ".join(MARKDOWN_ENGINES)), path, field="build.markdown_engine",
                          hint=tr("是否想写 “{g}”？", "did you mean '{g}'?", g=guess) if guess else None)
    from media_pipeline.errors import MediaError
    from media_pipeline.executor import dask_address

    try:
        dask_address(cfg.build.executor, path, "build.executor")
    except MediaError as exc:
        raise ConfigError(exc.message, path, field=exc.field, hint=exc.hint) from None
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", cfg.mobile.prefix):
        raise ConfigError(tr("mobile.prefix 必须是一个由小写字母、数字和连字符组成的目录名，如 \"m\"",
                             "mobile.prefix must be one folder name of lower-case letters, digits and hyphens, "
                             "e.g. \"m\""), path, field="mobile.prefix")
    if cfg.mobile.max_width < 1:
        raise ConfigError(tr("mobile.max_width 必须大于 0", "mobile.max_width must be at least 1"), path,
                          field="mobile.max_width")
    if cfg.build.paginate < 1:
        raise ConfigError(tr("paginate 必须大于 0", "paginate must be at least 1"), path, field="build.paginate")
    if not cfg.base_url.endswith("/"):
        cfg.base_url += "/"
    try:
        clock.configure(cfg.timezone)
    except clock.UnknownZone:
        raise ConfigError(tr("未知的时区 “{z}”", "unknown time zone '{z}'", z=cfg.timezone), path, field="timezone",
                          hint=tr("请写 IANA 时区名，如 Asia/Shanghai。", "use an IANA zone name such as Asia/Shanghai.")) from None
    check_confined(cfg, path)
    return cfg


def check_confined(cfg: SiteConfig, path: Path) -> None:
    """Every folder the build reads or writes, and site.toml, stays inside the site root, symbolic links
    included."""
    root = cfg.root
    out = cfg.output_dir
    cache = cfg.cache_dir
    if out == cache or out.is_relative_to(cache) or cache.is_relative_to(out):
        raise ConfigError(tr("output 不能是（或包含）构建缓存目录 {c}", "output cannot be (or contain) the build cache {c}",
                             c=CACHE_DIR), path, field="output",
                          hint=tr("请使用 output = \"public\"。", "use output = \"public\"."))
    theme = Path(cfg.theme)
    if theme.is_absolute() or ".." in theme.parts or len(theme.parts) != 1:
        raise ConfigError(tr("theme 应为 themes/ 下的一个目录名，而不是路径：{t}",
                             "theme must name a folder under themes/, not a path: {t}", t=cfg.theme),
                          path, field="theme", hint=tr("例如 theme = \"default\"。", "for example theme = \"default\"."))
    for rel, what in (("site_src", "site_src"), ("site_src/site.toml", "site_src/site.toml"),
                      ("site_src/assets", "site_src/assets"), ("topics", "topics"),
                      ("themes", "themes"), (f"themes/{cfg.theme}", f"themes/{cfg.theme}"),
                      (f"themes/{cfg.theme}/static", f"themes/{cfg.theme}/static"),
                      (f"themes/{cfg.theme}/templates", f"themes/{cfg.theme}/templates")):
        if (root / rel).exists() or (root / rel).is_symlink():
            confine(root, root / rel, root / rel, what)


def load_topic_config(path: Path) -> TopicConfig:
    return build_dataclass(TopicConfig, read_toml(path), path)
