"""`zhuanti init` (a new, empty site) and `zhuanti new topic|column|page` (from blueprints, never overwriting)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from builder import blueprints, clock, ui
from builder.errors import ConfigError
from builder.i18n import tr
from builder.resources import builtin_theme_dir, default_words_dir

SITE_TOML = '''# 站点配置（zhuanti）。说明见 README。
title = {title}
base_url = "https://www.example.gov.cn/zhuanti/"
language = "zh-CN"
theme = "default"
description = ""

[identity]            # 每页页脚显示，site.identity 检查
site_code = "0000000000"                # 网站标识码（10 位数字或 bm+8 位数字）
icp = "京ICP备00000000号"               # ICP 备案号
police_record = "京公网安备 00000000000000号"  # 公安机关备案号
organizer = {title}                    # 主办单位
contact = ""

[check]
allowed_domains = ["gov.cn"]            # 其他外链域名给出 link.external-domain
fail_on = "error"

[build]
paginate = 20
'''

HOME_MD = '''---
title: {title_yaml}
---

欢迎访问{title}专题专栏。
'''

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # used with fullmatch: no trailing newline slips through

README_MD = '''# {title}

用 zhuanti 构建的政府网站专题专栏。

```
zhuanti new topic 住有所居 --blueprint standard   # 新建专题（中文名自动转为拼音目录名）
zhuanti new column 专题目录/栏目目录 --title 栏目名   # 新建栏目
zhuanti new page 专题目录/栏目目录/页面 --title 标题  # 新建页面
zhuanti build          # 构建到 public/
zhuanti check          # 检查链接、错敏词、网站标识等
```

蓝本（--blueprint）：standard（标准专题）、data-list（双公示数据）、gallery（图片展）、
video（系列视频）、interview（在线访谈）；自己的蓝本放在 site_src/blueprints/<名称>/。

- `site_src/site.toml`：站点名称、网址、页脚标识（网站标识码、ICP 备案号、主办单位）、检查规则
- `site_src/index.md`：首页介绍；`site_src/words/`：错敏词词表
- `topics/<专题>/`：每个专题一个目录（topic.toml、index.md、各栏目目录）
- `themes/default/`：模板和样式，可直接修改

发布前请把 site.toml 中的网站标识码、备案号和主办单位改为本单位的真实信息。
'''


def _ignore(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", "__init__.py") or n.endswith(".pyc")]


def init_site(target: Path, title: str = "专题网站") -> Path:
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(tr("目录 {p} 已存在且不为空，未做任何改动", "folder {p} exists and is not empty; nothing was changed",
                             p=target), target, hint=tr("请指定一个新目录或空目录。", "name a new or empty folder."))
    (target / "site_src").mkdir(parents=True, exist_ok=True)
    (target / "topics").mkdir(exist_ok=True)
    quoted = json.dumps(title, ensure_ascii=False)
    (target / "site_src" / "site.toml").write_text(SITE_TOML.format(title=quoted), encoding="utf-8")
    (target / "site_src" / "index.md").write_text(HOME_MD.format(title=title, title_yaml=quoted), encoding="utf-8")
    (target / "README.md").write_text(README_MD.format(title=title), encoding="utf-8")
    (target / "site_src" / "assets").mkdir(exist_ok=True)
    shutil.copytree(default_words_dir(), target / "site_src" / "words", ignore=_ignore)
    shutil.copytree(builtin_theme_dir(), target / "themes" / "default", ignore=_ignore)
    (target / ".gitignore").write_text("public/\n.zhuanti-cache/\n.public.staging-*/\n", encoding="utf-8")
    return target


def init_command(args) -> int:
    # `zhuanti init DIR`, `zhuanti init --root DIR` and `zhuanti --root PARENT init DIR` all work.
    target = args.root if not getattr(args, "dir", None) else args.root / args.dir
    site = init_site(target)
    ui.summary(tr("已创建新站点：{p}（下一步：cd 进入后运行 zhuanti new topic 名称 --title 标题）",
                  "new site created: {p} (next: cd into it and run 'zhuanti new topic SLUG --title TITLE')", p=site))
    return 0


# ---- names -----------------------------------------------------------------------------------

def _has_cjk(text: str) -> bool:
    return any("CJK" in unicodedata.name(ch, "") for ch in text)


def slug_for(name: str, what: str) -> tuple[str, bool]:
    """(slug, converted): a Chinese name becomes its pinyin (住有所居 → zhuyousuoju); other names
    must already be a slug. A newline or any other control character is refused."""
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ConfigError(tr("{w}名 “{s}” 含有换行或控制字符", "the {w} name {s!r} contains a line break or control character",
                             w=what, s=name), what, hint=tr("例如：zhuyou-suoju", "for example: housing-2026"))
    if SLUG.fullmatch(name):
        return name, False
    if _has_cjk(name):
        from pypinyin import lazy_pinyin

        text = "".join(lazy_pinyin(unicodedata.normalize("NFKC", name))).lower()
        slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text)).strip("-")[:63].strip("-")
        if SLUG.fullmatch(slug):
            return slug, True
    raise ConfigError(tr("{w}名 “{s}” 只能用小写字母、数字和连字符（或中文，自动转为拼音）",
                         "{w} name '{s}' may only use a-z, 0-9 and '-' (or Chinese, turned into pinyin)", w=what, s=name),
                      what, hint=tr("例如：zhuyou-suoju", "for example: housing-2026"))


def _check_title(title: str | None, option: str = "--title") -> str:
    title = (title or "").strip()
    if not title or any(unicodedata.category(ch) == "Cc" for ch in title):
        raise ConfigError(tr("标题不能为空，也不能含换行或控制字符", "the title must not be empty or contain line breaks "
                             "or control characters"), option)
    return title


def _site(root: Path):
    if not (root / "site_src" / "site.toml").is_file():
        raise ConfigError(tr("{p} 不是 zhuanti 站点（没有 site_src/site.toml）", "{p} is not a zhuanti site (no site_src/site.toml)",
                             p=root), root, hint=tr("请在站点目录中运行，或用 --root 指定；新站点用 zhuanti init 创建。",
                                                     "run inside a site or pass --root; create one with 'zhuanti init'."))
    from builder.config import load_site_config

    return load_site_config(root)  # refuses a topics/ that leads outside the site; sets the site's time zone


def _refuse_existing(path: Path, what: str) -> None:
    if path.exists() or path.is_symlink():
        raise ConfigError(tr("{w} {p} 已存在，未做任何改动", "{w} {p} already exists; nothing was changed", w=what, p=path),
                          path, hint=tr("zhuanti new 从不覆盖已有文件；请换一个名称。", "zhuanti new never overwrites; pick "
                                        "another name."))


# ---- topics --------------------------------------------------------------------------------

def new_topic(root: Path, name: str, title: str | None = None, blueprint: str = "standard",
              announce=None) -> tuple[Path, str, bool]:
    """Scaffold ``topics/<slug>/`` from a blueprint; returns (folder, blueprint name, whether the
    slug was made from a Chinese name). A Chinese name is also the default title. Written into a
    hidden folder first and renamed, so a failure (e.g. ffmpeg) leaves no half-made topic behind."""
    _site(root)
    slug, converted = slug_for(name, tr("专题", "topic"))
    title = _check_title(title if title is not None or not converted else name)
    bp = blueprints.find(root, blueprint)
    target = root / "topics" / slug
    _refuse_existing(target, tr("专题", "topic"))
    today = clock.today()
    rendered = blueprints.render(bp, {"title": title, "slug": slug, "today": today.isoformat(), "year": today.year})
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".new-{slug}-", dir=target.parent) as tmp:
        work = Path(tmp) / slug
        work.mkdir()
        blueprints.write(rendered, work, on_file=announce)
        _refuse_existing(target, tr("专题", "topic"))
        work.rename(target)
    return target, bp.name, converted


def _topic_dir(root: Path, name: str) -> Path:
    topics = root / "topics"
    known = sorted(p.name for p in topics.iterdir() if p.is_dir() and not p.name.startswith(".")) if topics.is_dir() else []
    slug = name if name in known else slug_for(name, tr("专题", "topic"))[0]
    if slug not in known:
        raise ConfigError(tr("没有专题 “{t}”（现有：{a}）", "no topic '{t}' (there are: {a})", t=name, a=", ".join(known) or "—"),
                          "TOPIC", hint=tr("先用 zhuanti new topic 新建专题。", "create it first with 'zhuanti new topic'."))
    return topics / slug


def _split(path: str, parts: int, usage: str) -> list[str]:
    pieces = [p for p in path.strip("/").split("/")]
    if len(pieces) != parts or not all(pieces):
        raise ConfigError(tr("路径应写成 {u}，实际是 “{p}”", "the path must be {u}, got '{p}'", u=usage, p=path), usage)
    return pieces


def new_column(root: Path, path: str, title: str, column_type: str = "其他") -> tuple[Path, bool]:
    """``topics/<topic>/<col>/_index.md``. Returns (file, whether the name was made from Chinese)."""
    from builder.config import COLUMN_TYPES

    _site(root)
    topic, col = _split(path, 2, "TOPIC/COL")
    title = _check_title(title)
    if column_type not in COLUMN_TYPES:
        raise ConfigError(tr("栏目类型 “{c}” 不存在（可用：{a}）", "no column type '{c}' (known: {a})", c=column_type,
                             a="、".join(COLUMN_TYPES)), "--type")
    slug, converted = slug_for(col, tr("栏目", "column"))
    folder = _topic_dir(root, topic) / slug
    _refuse_existing(folder, tr("栏目", "column"))
    folder.mkdir(parents=True)
    target = folder / "_index.md"
    target.write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ncolumn_type: {column_type}\n---\n",
                      encoding="utf-8")
    return target, converted


def new_page(root: Path, path: str, title: str) -> tuple[Path, bool]:
    """``topics/<topic>/<col>/<name>.md`` dated today (the site's zone)."""
    _site(root)
    topic, col, name = _split(path, 3, "TOPIC/COL/NAME")
    title = _check_title(title)
    tdir = _topic_dir(root, topic)
    columns = sorted(p.name for p in tdir.iterdir() if (p / "_index.md").is_file())
    col_slug = col if col in columns else slug_for(col, tr("栏目", "column"))[0]
    if col_slug not in columns:
        raise ConfigError(tr("专题 {t} 没有栏目 “{c}”（现有：{a}）", "topic {t} has no column '{c}' (there are: {a})",
                             t=tdir.name, c=col, a=", ".join(columns) or "—"), "COL",
                          hint=tr("先用 zhuanti new column 新建栏目。", "create it first with 'zhuanti new column'."))
    slug, converted = slug_for(name.removesuffix(".md"), tr("页面", "page"))
    target = tdir / col_slug / f"{slug}.md"
    _refuse_existing(target, tr("页面", "page"))
    _refuse_existing(target.with_suffix(""), tr("页面", "page"))
    target.write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ndate: {clock.now().strftime('%Y-%m-%d %H:%M')}\n"
                      f"---\n\n在这里撰写正文。\n", encoding="utf-8")
    return target, converted


def new_command(args) -> int:
    root = args.root
    if args.kind == "column":
        target, converted = new_column(root, args.path, args.title, args.type)
        ui.summary(tr("已创建栏目：{p}（用 zhuanti new page 添加页面）", "column created: {p} (add pages with "
                      "'zhuanti new page')", p=target.relative_to(root)))
        return 0
    if args.kind == "page":
        target, converted = new_page(root, args.path, args.title)
        if converted:
            ui.say(tr("页面名已转为拼音：{s}", "the page name was turned into pinyin: {s}", s=target.stem))
        ui.summary(tr("已创建页面：{p}", "page created: {p}", p=target.relative_to(root)))
        return 0
    with ui.progress(tr("生成示例文件", "making the sample files"), None) as advance:
        target, name, converted = new_topic(root, args.slug, args.title, args.blueprint, announce=lambda _rel: advance())
    if converted:
        ui.say(tr("专题目录名已由 “{n}” 转为拼音：{s}（网址 /{s}/）", "the topic name '{n}' was turned into the pinyin "
                   "slug {s} (URL /{s}/)", n=args.slug, s=target.name))
    ui.summary(tr("已按蓝本 {b} 创建专题 {s}：{p}（运行 zhuanti build 查看效果）",
                  "topic {s} created from blueprint {b}: {p} (run 'zhuanti build')", b=name, s=target.name, p=target))
    return 0
