"""Command line: parse arguments, call one function per command, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from builder import __version__
from builder.errors import ZhuantiError
from builder.i18n import set_language, tr

# command name → "module:function"; each function takes the parsed arguments and returns an exit code.
COMMANDS = {
    "init": "builder.scaffold:init_command",
    "new": "builder.scaffold:new_command",
    "build": "builder.build:build_command",
    "check": "builder.checks.command:check_command",
    "media": "media_pipeline.command:media_command",
}


def _common() -> argparse.ArgumentParser:
    # Accepted before and after the command name; SUPPRESS keeps a later default from
    # overwriting a value given earlier.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--root", default=argparse.SUPPRESS, help="site root (default: current directory)")
    p.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help="message language")
    return p


def make_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="zhuanti", parents=[common],
                                     description=tr("政府网站专题构建、检查与发布工具",
                                                    "build, check and publish government special-topic sites"))
    parser.add_argument("--version", action="version", version=f"zhuanti {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("init", parents=[common], help=tr("新建空站点", "create a new, empty site"))
    p.add_argument("dir", help=tr("新站点目录", "folder of the new site"))

    p = sub.add_parser("new", parents=[common], help=tr("新建专题", "scaffold a topic"))
    new_sub = p.add_subparsers(dest="kind", metavar="KIND")
    new_sub.required = True
    t = new_sub.add_parser("topic", parents=[common], help=tr("新建专题", "scaffold a topic"))
    t.add_argument("slug")
    t.add_argument("--title", required=True)
    t.add_argument("--blueprint", default="default")

    p = sub.add_parser("build", parents=[common], help=tr("构建站点到 public/", "build into public/"))
    p.add_argument("--topic", action="append", help=tr("只构建这个专题（可重复）", "build only this topic (repeatable)"))
    p.add_argument("--drafts", action="store_true", help=tr("包含草稿", "include drafts"))
    p.add_argument("--future", action="store_true", help=tr("包含未到发布时间的页面", "include future pages"))
    p.add_argument("--jobs", type=int, default=None, help=tr("并行进程数", "parallel processes"))
    p.add_argument("--no-minify", action="store_true", help=tr("不压缩 HTML", "do not minify HTML"))
    p.add_argument("--clean", action="store_true", help=tr("忽略增量构建状态，全部重建", "ignore the build state"))
    p.add_argument("--executor", help=tr("媒体任务的执行器：local 或 dask://主机:8786", "where media jobs run: local or dask://HOST:8786"))

    p = sub.add_parser("check", parents=[common], help=tr("检查构建结果或任一 HTML 目录", "check the built site or any folder of HTML"))
    p.add_argument("path", nargs="?", help=tr("要检查的目录（默认 public/）", "folder to check (default: public/)"))
    p.add_argument("--external", action="store_true", help=tr("检查外部链接", "check external links over HTTP"))
    p.add_argument("--browser", action="store_true", help=tr("真实浏览器检查（移动端、无障碍）", "real-browser pass (mobile, accessibility)"))
    p.add_argument("--format", choices=["text", "json", "junit", "html"], default="text")
    p.add_argument("--output", help=tr("报告写入文件", "write the report to this file"))
    p.add_argument("--jobs", type=int, default=None)

    p = sub.add_parser("media", parents=[common], help=tr("只处理图片和视频", "process photos and videos only"))
    p.add_argument("--topic", action="append")
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--executor", help=tr("媒体任务的执行器：local 或 dask://主机:8786", "where media jobs run: local or dask://HOST:8786"))
    p.add_argument("--list", action="store_true", help=tr("列出媒体目录", "print the media catalog"))
    p.add_argument("--tag")
    p.add_argument("--group")
    p.add_argument("--format", choices=["text", "json"], default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --lang must be known before the parser builds its (translated) help texts.
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            set_language(argv[i + 1])
        elif a.startswith("--lang="):
            set_language(a.split("=", 1)[1])
    args = make_parser().parse_args(argv)
    set_language(getattr(args, "lang", None))
    args.root = Path(getattr(args, "root", None) or ".").resolve()
    module, func = COMMANDS[args.command].split(":")
    from builder import ui

    try:
        return int(getattr(importlib.import_module(module), func)(args) or 0)
    except ZhuantiError as exc:
        ui.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        ui.error(tr("已中断", "interrupted"))
        return 130


if __name__ == "__main__":
    sys.exit(main())
