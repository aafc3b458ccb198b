"""``zhuanti check [PATH]``: run every check on the built site or on any folder of HTML, write the
report, record the run (the publish gate reads it), exit 1 when a finding reaches ``fail_on``.

Site mode: the folder is inside the site root (``--root``, default the current directory) that
has ``site_src/site.toml`` — the site's policy, word lists and cache are used. Any other folder
(an export of an existing site) is checked in foreign-HTML mode: default word lists, identity by
pattern, records in ``~/.cache/zhuanti``. A build manifest in the folder is used in both modes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from builder import clock, ui
from builder.checks import report, store
from builder.checks.runner import CheckRun, run_checks
from builder.config import SiteConfig, load_site_config
from builder.errors import ConfigError
from builder.i18n import tr
from builder.manifest import load_manifest


def check_command(args) -> int:
    started = time.perf_counter()
    root: Path = args.root
    folder, site = _folder_and_site(root, getattr(args, "path", None))
    fmt = getattr(args, "format", None) or "text"
    output = _output_path(getattr(args, "output", None))
    jobs = getattr(args, "jobs", None)
    manifest = load_manifest(folder)
    build_sha = store.manifest_sha(folder)  # the build as it was when the check began
    cache_dir = site.cache_dir if site is not None else store.user_cache_dir()
    fail_on = site.check.fail_on if site is not None else "error"
    external, browser = bool(getattr(args, "external", False)), bool(getattr(args, "browser", False))

    run = run_checks(folder, site=site, manifest=manifest, external=external, browser=browser,
                     cache_dir=cache_dir, jobs=jobs, browser_options=_browser_options(args, fmt))
    failed = run.failed(fail_on)
    if run.pages == 0:
        ui.warn(tr("{f} 下没有找到网页（*.html、*.htm），没有可检查的内容",
                   "no web pages (*.html, *.htm) found under {f}: nothing to check", f=folder))
    now = clock.now(site.timezone if site is not None else None)  # the site's zone (builder.clock)
    _record(cache_dir, run, folder, build_sha, failed, fail_on, time.perf_counter() - started,
            {"external": external, "browser": run.browser}, now)  # a skipped browser pass did not run
    _write_report(run, fmt, output, fail_on=fail_on, cache_dir=cache_dir, folder=folder, now=now,
                  seconds=time.perf_counter() - started)
    ui.summary(tr("检查完成：{p} 个页面，{e} 个错误，{w} 个警告，用时 {s} 秒{v}",
                  "checked {p} pages: {e} errors, {w} warnings in {s} s{v}",
                  p=run.pages, e=run.count("error"), w=run.count("warning"),
                  s=round(time.perf_counter() - started, 2),
                  v=tr("；未通过", "; FAILED") if failed else ""), ok=not failed)
    return 1 if failed else 0


def _browser_options(args, fmt: str) -> dict:
    """``--sample``/``--devices`` for the browser pass; screenshots only for the HTML report.

    Without ``--browser`` there are none (and the browser module, ~30 ms of imports, stays unloaded)."""
    sample = getattr(args, "sample", None)
    if not getattr(args, "browser", False):
        if sample is not None or getattr(args, "devices", None):
            raise ConfigError(tr("--sample 和 --devices 只用于浏览器检查", "--sample and --devices apply to the "
                                 "browser pass only"), hint=tr("请同时加上 --browser", "add --browser"))
        return {}
    from builder.checks.browser import parse_devices

    if sample is not None and sample < 1:
        raise ConfigError(tr("--sample 必须大于 0", "--sample must be at least 1"), field="--sample")
    options: dict = {"devices": parse_devices(getattr(args, "devices", None)), "screenshots": fmt == "html"}
    if sample is not None:
        options["sample"] = sample
    return options


def _folder_and_site(root: Path, path: str | None) -> tuple[Path, SiteConfig | None]:
    """The folder to check and, when it belongs to the site at ``root``, that site's config."""
    has_site = (root / "site_src" / "site.toml").is_file()
    if path is None:
        if not has_site:
            raise ConfigError(
                tr("没有指定要检查的目录，且 {r} 不是 zhuanti 站点（没有 site_src/site.toml）",
                   "no folder given and {r} is not a zhuanti site (no site_src/site.toml)", r=root),
                hint=tr("用 zhuanti check 目录 检查任一 HTML 目录，或在站点目录中运行（--root 指定站点目录）",
                        "run 'zhuanti check FOLDER' on any folder of HTML, or run it in a site folder "
                        "(or pass --root)"))
        site = load_site_config(root)
        folder = site.output_dir
        if not folder.is_dir():
            raise ConfigError(tr("构建输出目录不存在：{f}", "the build output folder does not exist: {f}", f=folder),
                              hint=tr("请先运行 zhuanti build", "run 'zhuanti build' first"))
        return folder, site
    folder = Path(path).expanduser().resolve()
    if not folder.exists():
        raise ConfigError(tr("要检查的目录不存在：{f}", "the folder to check does not exist: {f}", f=path),
                          hint=tr("检查路径拼写；站点构建结果默认在 public/（先运行 zhuanti build）",
                                  "check the spelling; a site's build goes to public/ (run 'zhuanti build')"))
    if not folder.is_dir():
        raise ConfigError(tr("{f} 不是目录", "{f} is not a folder", f=path),
                          hint=tr("请指定包含网页的目录，例如 zhuanti check {p}",
                                  "name the folder that holds the pages, e.g. zhuanti check {p}",
                                  p=folder.parent))
    in_site = has_site and folder.is_relative_to(root.resolve())
    return folder, (load_site_config(root) if in_site else None)


def _output_path(output: str | None) -> Path | None:
    if not output:
        return None
    path = Path(output).expanduser()
    if path.is_dir():
        raise ConfigError(tr("--output 指向一个目录：{p}", "--output names a folder: {p}", p=output),
                          field="--output", hint=tr("请给出报告文件名，例如 report.html",
                                                    "give a file name, e.g. report.html"))
    if not path.resolve().parent.is_dir():
        raise ConfigError(tr("--output 所在的目录不存在：{p}", "the folder of --output does not exist: {p}",
                             p=path.resolve().parent), field="--output")
    return path


def _record(cache_dir: Path, run: CheckRun, folder: Path, build_sha: str | None, failed: bool, fail_on: str,
            seconds: float, options: dict, now: dt.datetime) -> None:
    try:
        store.record_run(cache_dir, run, folder=folder, verdict="fail" if failed else "pass", fail_on=fail_on,
                         manifest_sha=build_sha, seconds=seconds, options=options, when=now)
    except (sqlite3.Error, OSError) as exc:
        # The report is still worth having; only the publish gate and the trend lose this run.
        ui.warn(tr("无法记录本次检查结果（{p}）：{e}；发布前的检查记录和趋势图将缺少本次结果",
                   "could not record this run ({p}): {e}; the publish gate and the trend will miss it",
                   p=cache_dir / store.DB_NAME, e=exc))


def _write_report(run: CheckRun, fmt: str, output: Path | None, *, fail_on: str, cache_dir: Path, folder: Path,
                  now: dt.datetime, seconds: float) -> None:
    if fmt == "json":
        text = report.render_json(run, fail_on)
    elif fmt == "junit":
        text = report.render_junit(run, seconds=seconds, fail_on=fail_on)
    elif fmt == "html":
        text = report.render_html(run, trend=store.trend(cache_dir, folder), fail_on=fail_on,
                                  generated=now.strftime("%Y-%m-%d %H:%M:%S"), seconds=seconds)
        if output is None:
            output = _unused(cache_dir / "reports" / f"check-{now:%Y%m%d-%H%M%S}.html")
    elif fmt == "text":
        color = output is None and sys.stdout.isatty()
        text = report.render_text(run, color=color, fail_on=fail_on,
                                  width=shutil.get_terminal_size().columns if color else 100)
    else:
        raise ConfigError(tr("未知的报告格式：{f}", "unknown report format: {f}", f=fmt),
                          hint="text, json, junit, html")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(tr("无法写入报告：{e}", "cannot write the report: {e}", e=exc), output) from exc
    ui.say(tr("报告已写入：{p}", "report written to {p}", p=output))
    if fmt == "html":
        print(output)


def _unused(path: Path) -> Path:
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate
