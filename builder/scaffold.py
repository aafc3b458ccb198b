"""`zhuanti init` (a new, empty site) and `zhuanti new topic` (a topic from a blueprint)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from builder import clock, ui
from builder.errors import ConfigError
from builder.i18n import tr
from builder.resources import builtin_theme_dir, default_words_dir

SITE_TOML = '''# 站点配置（zhuanti）。说明见 README。
title = "{title}"
base_url = "https://www.example.gov.cn/zhuanti/"
language = "zh-CN"
theme = "default"
description = ""

[identity]            # 每页页脚显示，site.identity 检查
site_code = "0000000000"                # 网站标识码（10 位数字或 bm+8 位数字）
icp = "京ICP备00000000号"               # ICP 备案号
police_record = "京公网安备 00000000000000号"  # 公安机关备案号
organizer = "{title}"                    # 主办单位
contact = ""

[check]
allowed_domains = ["gov.cn"]            # 其他外链域名给出 link.external-domain
fail_on = "error"

[build]
paginate = 20
'''

HOME_MD = '''---
title: {title}
---

欢迎访问{title}专题专栏。
'''

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _ignore(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", "__init__.py") or n.endswith(".pyc")]


def init_site(target: Path, title: str = "专题网站") -> Path:
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(tr("目录 {p} 已存在且不为空，未做任何改动", "folder {p} exists and is not empty; nothing was changed",
                             p=target), target, hint=tr("请指定一个新目录或空目录。", "name a new or empty folder."))
    (target / "site_src").mkdir(parents=True, exist_ok=True)
    (target / "topics").mkdir(exist_ok=True)
    (target / "site_src" / "site.toml").write_text(SITE_TOML.format(title=title), encoding="utf-8")
    (target / "site_src" / "index.md").write_text(HOME_MD.format(title=title), encoding="utf-8")
    (target / "site_src" / "assets").mkdir(exist_ok=True)
    shutil.copytree(default_words_dir(), target / "site_src" / "words", ignore=_ignore)
    shutil.copytree(builtin_theme_dir(), target / "themes" / "default", ignore=_ignore)
    (target / ".gitignore").write_text("public/\n.zhuanti-cache/\n.public.staging-*/\n", encoding="utf-8")
    return target


def init_command(args) -> int:
    target = Path(args.dir)
    if not target.is_absolute():
        target = Path.cwd() / target
    site = init_site(target)
    ui.summary(tr("已创建新站点：{p}（下一步：cd 进入后运行 zhuanti new topic 名称 --title 标题）",
                  "new site created: {p} (next: cd into it and run 'zhuanti new topic SLUG --title TITLE')", p=site))
    return 0


# ---- topics --------------------------------------------------------------------------------

def _blueprint_default(title: str, today: str) -> dict[str, str]:
    return {
        "topic.toml": f'title = "{title}"\nsummary = "{title}专题"\nstart = {today}\ncolumns = ["dongtai", "zhengce"]\n',
        "index.md": f"---\ntitle: {title}\n---\n\n{title}专题汇集相关工作动态和政策文件。\n\n"
                    "- [工作动态](dongtai/_index.md)\n- [政策文件](zhengce/_index.md)\n",
        "dongtai/_index.md": "---\ntitle: 工作动态\ncolumn_type: 工作动态\nstale_after: 14d\n---\n",
        "dongtai/gongzuo-bushu.md": f"---\ntitle: {title}工作部署会召开\ndate: {today}\ntags: [工作动态]\n---\n\n"
                                    f"近日，{title}工作部署会召开，会议明确了下一阶段的重点任务。\n\n"
                                    "详见[相关政策文件](../zhengce/shishi-fangan.md)。\n",
        "dongtai/jinzhan-qingkuang.md": f"---\ntitle: {title}工作进展情况\ndate: {today}\n---\n\n"
                                        "各项任务按计划推进。\n",
        "zhengce/_index.md": "---\ntitle: 政策文件\ncolumn_type: 政策文件\nstale_after: 6m\n---\n",
        "zhengce/shishi-fangan.md": f"---\ntitle: {title}实施方案\ndate: {today}\ntags: [政策文件]\n---\n\n"
                                    "## 一、总体要求\n\n坚持问题导向，确保各项任务落地见效。\n\n"
                                    "## 二、主要任务\n\n1. 完善工作机制。\n2. 加强督促检查。\n",
        "zhengce/zhengce-jiedu.md": f"---\ntitle: 《{title}实施方案》解读\ndate: {today}\n---\n\n"
                                    "一图读懂实施方案的主要内容。\n",
    }


def _blueprint_data(title: str, today: str) -> dict[str, str]:
    files = _blueprint_default(title, today)
    files["topic.toml"] = (f'title = "{title}"\nsummary = "{title}专题"\nstart = {today}\n'
                           'columns = ["dongtai", "xuke"]\n')
    files["index.md"] = (f"---\ntitle: {title}\n---\n\n{title}专题。\n\n"
                         "- [工作动态](dongtai/_index.md)\n- [行政许可结果](xuke/_index.md)\n")
    for k in [k for k in files if k.startswith("zhengce/")]:
        del files[k]
    files["dongtai/gongzuo-bushu.md"] = files["dongtai/gongzuo-bushu.md"].replace(
        "详见[相关政策文件](../zhengce/shishi-fangan.md)。", "详见[行政许可结果](../xuke/_index.md)。")
    files["xuke/_index.md"] = ("---\ntitle: 行政许可结果\ncolumn_type: 数据发布\ndata: records.csv\n"
                               "slug_field: 许可编号\ntitle_field: 项目名称\ndate_field: 许可日期\n"
                               "required: [许可编号, 项目名称, 许可日期]\npaginate: 20\nstale_after: 14d\n---\n\n"
                               "按照“双公示”要求公开行政许可结果。\n")
    files["xuke/records.csv"] = ("许可编号,项目名称,行政相对人,许可日期\n"
                                 f"示例许可〔{today[:4]}〕001号,示例项目一,示例单位一,{today}\n"
                                 f"示例许可〔{today[:4]}〕002号,示例项目二,示例单位二,{today}\n")
    return files


BLUEPRINTS = {"default": _blueprint_default, "data": _blueprint_data}


def new_topic(root: Path, slug: str, title: str, blueprint: str = "default") -> Path:
    if not (root / "site_src" / "site.toml").is_file():
        raise ConfigError(tr("{p} 不是 zhuanti 站点（没有 site_src/site.toml）", "{p} is not a zhuanti site (no site_src/site.toml)",
                             p=root), root, hint=tr("请在站点目录中运行，或用 --root 指定；新站点用 zhuanti init 创建。",
                                                     "run inside a site or pass --root; create one with 'zhuanti init'."))
    from builder.config import load_site_config

    load_site_config(root)  # refuses a topics/ that leads outside the site; sets the site's time zone
    if not SLUG.match(slug):
        raise ConfigError(tr("专题名 “{s}” 只能用小写字母、数字和连字符", "topic slug '{s}' may only use a-z, 0-9 and '-'", s=slug),
                          "SLUG", hint=tr("例如：zhuyou-suoju", "for example: housing-2026"))
    if blueprint not in BLUEPRINTS:
        raise ConfigError(tr("没有蓝本 “{b}”（可用：{a}）", "no blueprint '{b}' (available: {a})", b=blueprint,
                             a=", ".join(BLUEPRINTS)), "--blueprint")
    if not title.strip() or any(c in title for c in '"\\\n'):
        raise ConfigError(tr("标题不能为空，也不能含引号、反斜杠或换行", "the title must not be empty or contain quotes, "
                             "backslashes or line breaks"), "--title")
    target = root / "topics" / slug
    if target.exists():
        raise ConfigError(tr("专题 {p} 已存在，未做任何改动", "topic {p} already exists; nothing was changed", p=target), target)
    today = clock.today().isoformat()  # the site's zone (Asia/Shanghai by default), builder.clock
    files = BLUEPRINTS[blueprint](title.strip(), today)
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def new_command(args) -> int:
    target = new_topic(args.root, args.slug, args.title, args.blueprint)
    ui.summary(tr("已创建专题 {s}：{p}（运行 zhuanti build 查看效果）", "topic {s} created: {p} (run 'zhuanti build')",
                  s=args.slug, p=target))
    return 0
