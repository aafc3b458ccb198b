"""Command line: parse arguments, call one function per command, map errors to exit codes."""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from pathlib import Path

from builder import __version__
from builder.cli_i18n import ArgumentParser
from builder.errors import ZhuantiError
from builder.i18n import set_language, tr

# command name → "module:function"; each function takes the parsed arguments and returns an exit code.
COMMANDS = {
    "init": "builder.scaffold:init_command",
    "new": "builder.scaffold:new_command",
    "build": "builder.build:build_command",
    "check": "builder.checks.command:check_command",
    "media": "builder.media:media_command",
    "serve": "builder.serve.command:serve_command",
    "publish": "builder.publish.command:publish_command",
    "rollback": "builder.publish.command:rollback_command",
    "releases": "builder.publish.command:releases_command",
    "verify": "builder.publish.command:verify_command",
}


def _common() -> argparse.ArgumentParser:
    # Accepted before and after the command name; SUPPRESS keeps a later default from
    # overwriting a value given earlier.
    # ArgumentParser (builder.cli_i18n): argparse's own words in the user's language; sub-parsers inherit it.
    p = ArgumentParser(add_help=False)
    p.add_argument("--root", default=argparse.SUPPRESS, metavar=tr("目录", "DIR"),
                   help=tr("站点目录（默认：当前目录）", "site root (default: the current folder)"))
    p.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS,
                   help=tr("提示信息的语言：zh 中文（默认）或 en 英文；也可设环境变量 ZHUANTI_LANG",
                           "language of messages: zh Chinese (default) or en English; or set ZHUANTI_LANG"))
    return p


def blueprint_names(root: Path | None = None) -> list[str]:
    """Blueprints ``new topic --blueprint`` accepts: the built-in ones and the site's own."""
    from builder import blueprints

    return list(blueprints.available(root or Path.cwd()))


def make_parser(root: Path | None = None, blueprints: bool = True) -> argparse.ArgumentParser:
    """``blueprints``: list the blueprints in ``new topic``'s help (they are read from disk; only
    ``new`` shows them, so the other commands start without)."""
    common = _common()
    parser = ArgumentParser(prog="zhuanti", parents=[common],
                            description=tr("政府网站专题构建、检查与发布工具",
                                           "build, check and publish government special-topic sites"))
    parser.add_argument("--version", action="version", version=f"zhuanti {__version__}",
                        help=tr("显示版本号并退出", "show the version and exit"))
    sub = parser.add_subparsers(dest="command", metavar=tr("命令", "COMMAND"))
    sub.required = True

    p = sub.add_parser("init", parents=[common], help=tr("新建空站点", "create a new, empty site"))
    p.add_argument("dir", nargs="?", help=tr("新站点目录（也可用 --root 指定）", "folder of the new site (or give --root)"))

    p = sub.add_parser("new", parents=[common], help=tr("新建专题、栏目或页面", "scaffold a topic, column or page"))
    new_sub = p.add_subparsers(dest="kind", metavar=tr("类型", "KIND"))
    new_sub.required = True
    t = new_sub.add_parser("topic", parents=[common], help=tr("按蓝本新建专题", "scaffold a topic from a blueprint"))
    t.add_argument("slug", metavar=tr("专题名", "SLUG"), help=tr("专题目录名（网址的一部分）；中文名自动转为拼音", "topic folder name (part of the URL); "
                                   "a Chinese name becomes pinyin"))
    t.add_argument("--title", metavar=tr("标题", "TITLE"), help=tr("专题标题（中文目录名时默认用它）", "topic title (defaults to a Chinese name)"))
    names = blueprint_names(root) if blueprints else []
    t.add_argument("--blueprint", default="standard", metavar=tr("蓝本", "NAME"),
                   help=tr("蓝本：{a}（默认 standard；自己的蓝本放在 site_src/blueprints/<名称>/）",
                           "blueprint: {a} (default: standard; a site's own go in site_src/blueprints/<name>/)",
                           a=tr("、", ", ").join(names)))
    c = new_sub.add_parser("column", parents=[common], help=tr("新建栏目", "add a column to a topic"))
    c.add_argument("path", metavar="TOPIC/COL", help=tr("专题/栏目目录名", "topic/column folder names"))
    c.add_argument("--title", required=True, help=tr("栏目标题", "column title"))
    c.add_argument("--type", default="其他", help=tr("栏目类型（工作动态、通知公告、政策文件 …，默认 其他）",
                                                    "column type (工作动态, 通知公告, 政策文件 …; default 其他)"))
    g = new_sub.add_parser("page", parents=[common], help=tr("新建页面", "add a page to a column"))
    g.add_argument("path", metavar="TOPIC/COL/NAME", help=tr("专题/栏目/页面名", "topic/column/page names"))
    g.add_argument("--title", required=True, help=tr("页面标题", "page title"))

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
    p.add_argument("--sample", type=int, metavar="N",
                   help=tr("浏览器检查时每个模板只抽查 N 个页面（默认检查全部页面）",
                           "browser pass: check N pages per template (default: every page)"))
    p.add_argument("--devices", metavar="LIST",
                   help=tr("浏览器检查的设备，逗号分隔的名称或宽度，如 360,1366（默认全部：360,375,414,768,1366）",
                           "browser pass devices, comma-separated names or widths, e.g. 360,1366 "
                           "(default all: 360,375,414,768,1366)"))
    p.add_argument("--format", choices=["text", "json", "junit", "html"], default="text",
                   help=tr("报告格式：text（默认）、json、junit、html", "report format: text (default), json, junit, html"))
    p.add_argument("--output", help=tr("报告写入文件", "write the report to this file"))
    p.add_argument("--jobs", type=int, default=None, help=tr("并行进程数", "parallel processes"))

    p = sub.add_parser("serve", parents=[common],
                       help=tr("实时预览：保存即刷新，构建错误和检查问题显示在页面中",
                               "live preview: reloads on save, build errors and findings shown in the page"))
    p.add_argument("--port", type=int, default=8000, help=tr("端口（默认 8000）", "port (default 8000)"))
    p.add_argument("--host", default="127.0.0.1",
                   help=tr("监听地址（默认 127.0.0.1，只有本机能访问）", "address to listen on (default 127.0.0.1: this machine only)"))
    p.add_argument("--base-path", default="/",
                   help=tr("反向代理保留的路径前缀，例如 /preview/", "path prefix a reverse proxy keeps, e.g. /preview/"))
    p.add_argument("--reload-url", default=None,
                   help=tr("浏览器连接刷新通道的地址（代理把它放在别处时），例如 https://cms.example.gov.cn/preview-live/",
                           "where browsers reach the reload channel when a proxy puts it elsewhere"))
    p.add_argument("--reload-via", choices=["auto", "sse", "poll"], default="auto",
                   help=tr("刷新通道：auto（WebSocket，不通时改用 SSE、长轮询）、sse、poll",
                           "reload channel: auto (WebSocket, falling back to SSE, long-polling), sse, poll"))

    p = sub.add_parser("media", parents=[common], help=tr("只处理图片和视频", "process photos and videos only"))
    p.add_argument("--topic", action="append", help=tr("只处理这个专题（可重复）", "only this topic (repeatable)"))
    p.add_argument("--jobs", type=int, default=None, help=tr("并行进程数", "parallel processes"))
    p.add_argument("--executor", help=tr("媒体任务的执行器：local 或 dask://主机:8786", "where media jobs run: local or dask://HOST:8786"))
    p.add_argument("--list", action="store_true", help=tr("列出媒体目录", "print the media catalog"))
    p.add_argument("--tag", help=tr("与 --list 一起用：只列出带这个标签的", "with --list: only items with this tag"))
    p.add_argument("--group", help=tr("与 --list 一起用：只列出这一组", "with --list: only this group"))
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help=tr("与 --list 一起用：输出格式 text（默认）或 json", "with --list: output format text (default) or json"))

    target_help = tr("site.toml 中 [publish.名称] 的名称", "the NAME of a [publish.NAME] table in site.toml")
    p = sub.add_parser("publish", parents=[common], help=tr("发布已检查的构建到目标", "publish the checked build to a target"))
    p.add_argument("target", help=target_help)
    p.add_argument("--dry-run", action="store_true",
                   help=tr("只列出将新增、修改、删除的文件和字节数，不发送", "print the plan (added, changed, deleted, bytes); send nothing"))
    p.add_argument("--force", action="store_true",
                   help=tr("检查未通过或未检查也发布（会记入发布记录）", "publish even if the check failed or never ran (recorded in the release)"))
    p.add_argument("--allow-deletes", action="store_true",
                   help=tr("允许删除超过 max_deletes 个文件", "allow deleting more than max_deletes files"))
    p.add_argument("--prune-foreign", action="store_true",
                   help=tr("删除目标上不是 zhuanti 发布的文件", "delete files on the target that zhuanti did not publish"))

    p = sub.add_parser("rollback", parents=[common], help=tr("回滚到以前的版本", "go back to an earlier release"))
    p.add_argument("target", help=target_help)
    p.add_argument("--to", metavar="ID", help=tr("回滚到这个版本（默认：上一个版本）", "go back to this release (default: the one before the live one)"))

    p = sub.add_parser("releases", parents=[common], help=tr("列出目标上的版本", "list the releases on a target"))
    p.add_argument("target", help=target_help)

    p = sub.add_parser("verify", parents=[common], help=tr("核对在线内容与发布记录（篡改检测）", "compare what is deployed with the release record (tamper check)"))
    p.add_argument("target", help=target_help)
    p.add_argument("--url", help=tr("通过 HTTP 从这个地址获取每个页面来核对", "fetch every page over HTTP from this base URL instead"))
    p.add_argument("--format", choices=["text", "json"], default="text", help=tr("报告格式", "report format"))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --lang must be known before the parser builds its (translated) help texts.
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            set_language(argv[i + 1])
        elif a.startswith("--lang="):
            set_language(a.split("=", 1)[1])
    root = next((Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "--root"), None) or \
        next((Path(a.split("=", 1)[1]) for a in argv if a.startswith("--root=")), None)
    args = make_parser(root, blueprints="new" in argv).parse_args(argv)
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
    except OSError as exc:  # the machine, not the input: say it in words, never a traceback
        ui.error(os_error_message(exc, args.command))
        return 1


def os_error_message(exc: OSError, command: str) -> str:
    """A file-system failure in the user's words: what happened, to which file, and what to do."""
    where = exc.filename or ""
    kept = tr("public/ 保持不变（新结果只在全部写完后才替换旧的）。", "public/ is unchanged (the new output replaces "
              "the old one only once it is complete).") if command == "build" else ""
    if exc.errno == errno.ENOSPC:
        return tr("磁盘空间已满，写入 {f} 时失败。{k}\n  请清理磁盘空间后重试。", "the disk is full: writing {f} failed. {k}"
                  "\n  Free some disk space and try again.", f=where, k=kept)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return tr("没有权限写入或读取 {f}。{k}\n  请检查文件权限。", "no permission to read or write {f}. {k}"
                  "\n  Check the file permissions.", f=where, k=kept)
    return tr("文件操作失败：{f}：{e}。{k}", "file operation failed: {f}: {e}. {k}", f=where, e=exc.strerror or exc, k=kept)


if __name__ == "__main__":
    sys.exit(main())
