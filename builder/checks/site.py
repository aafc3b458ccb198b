"""Site compliance (网站规范性): footer identity, the page-specification meta tags, publish dates,
empty and stale columns, and topics past their end date — GOVWEB_CHECKS C5 and C6.

With a build manifest the page kinds, columns and topics come from it; a folder of foreign HTML
(an export of an existing site) is judged by patterns and by the page's own meta tags.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from builder import clock
from builder.checks.base import Finding, HtmlDoc
from builder.config import CheckConfig, SiteConfig
from builder.i18n import tr

RULE_IDENTITY = "site.identity"  # footer: 网站标识码, ICP 备案号, 公安备案号, 主办单位
RULE_META = "site.meta"  # 47号 网页设计规范 meta tags (SiteName, ColumnName, ArticleTitle, PubDate …)
RULE_NO_DATE = "site.no-date"  # a detail page with no publish date ("未注明信息发布时间的视为不更新")
RULE_FUTURE_DATE = "site.future-date"  # a publish date after today (伪造发稿日期 is a veto item)
RULE_EMPTY = "site.empty-column"  # 空白栏目
RULE_STALE = "site.stale-column"  # 栏目不更新
RULE_TOPIC_ENDED = "site.topic-ended"  # active 专题 whose end date has passed

# Inspection veto thresholds (国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决, as quoted in
# GOVWEB_CHECKS §0 and C5): 栏目不更新 1 — 动态、要闻类 (2 weeks) plus 通知公告、政策文件类 (6 months)
# not updated, 累计超过(含)5个; 栏目不更新 2 — 应更新但长期未更新 超过(含)10个; 栏目不更新 3 — 空白栏目
# 超过(含)5个. 普查-era rule: 严重错别字超过3次以上即判定为不合格 (so 4 or more). 安全、泄密事故 3:
# 发布…反动、暴力、色情等内容 — a single sensitive word from the site's own list is enough.
VETO_STALE_NEWS_NOTICE = 5
VETO_STALE_ANY = 10
VETO_EMPTY_COLUMNS = 5
VETO_SERIOUS_WORDS = 4
VETO_SENSITIVE_WORDS = 1

NEWS_TYPES = ("动态", "要闻", "新闻")  # 工作动态, 要闻动态 …: the 2-week rule
NOTICE_TYPES = ("通知", "公告", "政策文件")  # 通知公告, 政策文件: the 6-month rule

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
SITE_CODE_NEAR = re.compile(r"网站标识码[^0-9A-Za-z]{0,10}((?:bm|BM)\d{8}|\d{10})(?!\d)")
SITE_CODE = re.compile(r"^(?:bm\d{8}|\d{10})$")
ICP = re.compile(rf"[{_PROVINCES}]ICP备\d+号(?:-\d+)?")
POLICE = re.compile(rf"[{_PROVINCES}]?公网安备\d{{14}}号")
ORGANIZER = re.compile(r"主办单位|主办[:：]")
PUBDATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
VISIBLE_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
EMPTY_LIST = re.compile(r"暂无(?:相关)?(?:信息|内容|数据|记录|文章)")
REDIRECT = re.compile(r"""<meta[^>]+http-equiv\s*=\s*["']?refresh""", re.IGNORECASE)
DOCUMENT = re.compile(r"<(?:!doctype|html|head|body|title)[\s>]", re.IGNORECASE)  # else a fragment

EVERY_PAGE_META = ("SiteName", "SiteDomain", "SiteIDCode")
COLUMN_META = ("ColumnName", "ColumnType")
COLUMN_META_RECOMMENDED = ("ColumnDescription", "ColumnKeywords")
DETAIL_META = ("ArticleTitle", "ContentSource")


@dataclass(frozen=True, slots=True)
class IdentityItem:
    key: str  # IdentityConfig field
    label_zh: str
    label_en: str
    pattern: re.Pattern

    @property
    def label(self) -> str:
        return tr(self.label_zh, self.label_en)


IDENTITY = (
    IdentityItem("site_code", "网站标识码", "site identifier code (网站标识码)", SITE_CODE_NEAR),
    IdentityItem("icp", "ICP备案号", "ICP record number (ICP备案号)", ICP),
    IdentityItem("police_record", "公安备案号", "public-security record (公网安备)", POLICE),
    IdentityItem("organizer", "主办单位", "organiser (主办单位)", ORGANIZER),
)


# What `zhuanti init` writes until the site fills in its own (builder/scaffold.py): a record number
# of zeros and the default title as 主办单位. Published, they are fake codes.
PLACEHOLDER_ORGANIZERS = ("专题网站",)
SITE_TOML = "site_src/site.toml"


def is_placeholder(key: str, value: str) -> bool:
    """A scaffold placeholder rather than the site's real identity item."""
    value = compact(value)
    if key == "organizer":
        return value in PLACEHOLDER_ORGANIZERS
    digits = "".join(re.findall(r"\d", re.sub(r"号-\d+$", "号", value)))  # an ICP "-1" suffix is a site number
    return bool(digits) and set(digits) == {"0"}


def compact(s: str) -> str:
    """``s`` without whitespace (what ``\\s`` matches is what ``str.split`` splits on: str.isspace)."""
    return "".join(s.split())


def parse_date(value: object) -> dt.date | None:
    """``YYYY-MM-DD`` (a time after it is ignored); None for anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


class SiteCheck:
    """``zhuanti check`` family for the site.* rules. ``site`` None: foreign HTML, judged by pattern."""

    def __init__(self, site: SiteConfig | None, manifest: dict | None, today: dt.date | None = None) -> None:
        self.site = site
        self.manifest = manifest or None
        self.today = today or clock.today(site.timezone if site else None)  # the site's date, not the machine's
        self.policy: CheckConfig = site.check if site else CheckConfig()
        identity = dict(manifest.get("identity") or {}) if manifest else {}
        if site:
            identity.update({k: v for k, v in vars(site.identity).items() if v})
        self.identity = {item.key: str(identity.get(item.key) or "").strip() for item in IDENTITY}
        self.domain = site.site_domain if site else ""
        if not self.domain and manifest:
            m = re.match(r"^[a-z]+://([^/:]+)", str(manifest.get("base_url") or ""))
            self.domain = m.group(1) if m else ""
        self.pages = {p.get("path"): p for p in (manifest or {}).get("pages", []) if isinstance(p, dict)}
        # (item, configured value without spaces, lower-cased, scaffold placeholder?): the same on every page
        self._wanted = [(item, want, want.lower(), bool(want) and is_placeholder(item.key, want))
                        for item in IDENTITY for want in (compact(self.identity[item.key]),)]

    # -- per page ----------------------------------------------------------------------------

    def page(self, doc: HtmlDoc) -> Iterator[Finding]:
        if not DOCUMENT.search(doc.html) or REDIRECT.search(doc.html):
            return  # an HTML fragment or a redirect stub is not a page a reader stays on
        body = doc.tree.body or doc.tree.root
        text = body.text(separator=" ") if body is not None else ""
        flat = compact(text)
        footer_code = self._footer_code(flat)
        yield from self._identity(doc, flat)
        meta = self._meta(doc)
        entry = self.pages.get(doc.rel)
        kind = entry.get("kind") if entry else None
        if kind is None and self.manifest is None:
            kind = "detail" if "articletitle" in meta else "column" if "columnname" in meta else None
        yield from self._every_page_meta(doc, meta, footer_code)
        if kind == "column":
            yield from self._column_meta(doc, meta)
            if self.manifest is None and EMPTY_LIST.search(flat):
                yield Finding(RULE_EMPTY, "warning", doc.rel, tr(
                    "栏目页显示“暂无信息”，疑似空白栏目", "the column page says it has no items (暂无信息): "
                    "probably an empty column"), line=doc.line_of_text("暂无"), target=meta.get("columnname"))
        elif kind == "detail":
            yield from self._detail_meta(doc, meta, entry, text)

    @staticmethod
    def _footer_code(flat: str) -> str | None:
        m = SITE_CODE_NEAR.search(flat)
        return m.group(1).lower() if m else None

    def _identity(self, doc: HtmlDoc, flat: str) -> Iterator[Finding]:
        problems: list[str] = []
        missing: list[str] = []
        low = None
        for item, want, want_low, placeholder in self._wanted:
            if placeholder:
                continue  # reported once for the site by finish(), where it must be filled in
            if not want:
                m = item.pattern.search(flat)
                if m and is_placeholder(item.key, m.group(m.lastindex or 0)):
                    problems.append(tr("{l}“{v}”是占位值，不是真实备案信息", "{l} '{v}' is a placeholder, not a real "
                                       "record", l=item.label, v=m.group(m.lastindex or 0)))
                    missing.append(item.label_zh)
                    continue
            if want:
                if low is None:
                    low = flat.lower()
                if want_low in low:
                    continue
                m = item.pattern.search(flat)
                if m and item.key != "organizer":
                    problems.append(tr("{l}为“{got}”，与配置的“{want}”不一致", "{l} is '{got}', not the configured '{want}'",
                                       l=item.label, got=m.group(m.lastindex or 0), want=self.identity[item.key]))
                else:
                    problems.append(tr("缺少{l}“{want}”", "{l} '{want}' is missing", l=item.label,
                                       want=self.identity[item.key]))
                missing.append(item.label_zh)
            elif not item.pattern.search(flat):
                problems.append(tr("缺少{l}", "{l} is missing", l=item.label))
                missing.append(item.label_zh)
        if problems:
            yield Finding(RULE_IDENTITY, "error", doc.rel,
                          tr("页脚标识不全：", "footer identity incomplete: ") + tr("；", "; ").join(problems),
                          line=doc.line_of_text("<footer") or doc.line_of_text("</body"), target="、".join(missing),
                          suggestion=tr("在页脚写明网站标识码、ICP 备案号、公安备案号和主办单位（site.toml 的 [identity]）",
                                        "print the site code, ICP record, public-security record and organiser in the "
                                        "footer ([identity] in site.toml)"))

    @staticmethod
    def _meta(doc: HtmlDoc) -> dict[str, str]:
        meta: dict[str, str] = {}
        for node in doc.elements("meta"):  # those without a name are skipped below
            attrs = node.attributes
            name = (attrs.get("name") or "").strip().lower()
            if name and name not in meta:
                meta[name] = (attrs.get("content") or "").strip()
        return meta

    @staticmethod
    def _meta_line(doc: HtmlDoc, name: str) -> int | None:
        m = re.search(rf"""name\s*=\s*["']?{name}\b""", doc.html, re.IGNORECASE)
        if m:
            return doc.line_of(m.start())
        return doc.line_of_text("</head") or doc.line_of_text("</HEAD")

    def _missing_meta(self, doc: HtmlDoc, meta: dict[str, str], names: Iterable[str], severity: str,
                      what_zh: str, what_en: str) -> Iterator[Finding]:
        missing = [n for n in names if not meta.get(n.lower())]
        if missing:
            yield Finding(RULE_META, severity, doc.rel, tr(
                "{w}缺少 meta 标签：{m}", "{w} lacks the meta tags: {m}", w=tr(what_zh, what_en), m=", ".join(missing)),
                line=self._meta_line(doc, missing[0]), target=", ".join(missing),
                suggestion=tr('在 <head> 中加入 <meta name="{n}" content="…">（国办发〔2017〕47号 网页设计规范）',
                              'add <meta name="{n}" content="…"> to <head> (国办发〔2017〕47号 page specification)',
                              n=missing[0]))

    def _every_page_meta(self, doc: HtmlDoc, meta: dict[str, str], footer_code: str | None) -> Iterator[Finding]:
        yield from self._missing_meta(doc, meta, EVERY_PAGE_META, "error", "页面", "the page")
        code = meta.get("siteidcode", "")
        if code:
            configured = self.identity["site_code"].lower()
            # the line is looked for (a search of the whole page) only for a finding
            if not SITE_CODE.match(code.lower()):
                yield Finding(RULE_META, "error", doc.rel, tr(
                    "SiteIDCode“{c}”不是有效的网站标识码（bm 加 8 位数字，或 10 位数字）",
                    "SiteIDCode '{c}' is not a valid site code (bm and 8 digits, or 10 digits)", c=code),
                    line=self._meta_line(doc, "SiteIDCode"), target=code)
            elif configured and code.lower() != configured:
                yield Finding(RULE_META, "error", doc.rel, tr(
                    "SiteIDCode“{c}”与配置的网站标识码“{w}”不一致", "SiteIDCode '{c}' differs from the configured "
                    "site code '{w}'", c=code, w=self.identity["site_code"]), line=self._meta_line(doc, "SiteIDCode"),
                    target=code, suggestion=self.identity["site_code"])
            elif footer_code and code.lower() != footer_code:
                yield Finding(RULE_META, "error", doc.rel, tr(
                    "SiteIDCode“{c}”与页脚的网站标识码“{f}”不一致", "SiteIDCode '{c}' differs from the footer's "
                    "site code '{f}'", c=code, f=footer_code), line=self._meta_line(doc, "SiteIDCode"), target=code,
                    suggestion=footer_code)
        domain = meta.get("sitedomain", "")
        if domain and self.domain and domain.lower().removesuffix("/") != self.domain.lower():
            yield Finding(RULE_META, "warning", doc.rel, tr(
                "SiteDomain“{d}”与网站域名“{w}”不一致", "SiteDomain '{d}' differs from the site's domain '{w}'",
                d=domain, w=self.domain), line=self._meta_line(doc, "SiteDomain"), target=domain, suggestion=self.domain)

    def _column_meta(self, doc: HtmlDoc, meta: dict[str, str]) -> Iterator[Finding]:
        yield from self._missing_meta(doc, meta, COLUMN_META, "error", "栏目页", "the column page")
        yield from self._missing_meta(doc, meta, COLUMN_META_RECOMMENDED, "warning", "栏目页", "the column page")

    def _detail_meta(self, doc: HtmlDoc, meta: dict[str, str], entry: dict | None, text: str) -> Iterator[Finding]:
        yield from self._missing_meta(doc, meta, DETAIL_META, "error", "详情页", "the detail page")
        pub = meta.get("pubdate", "")
        if not pub:
            known = parse_date((entry or {}).get("date")) or (VISIBLE_DATE.search(text) if entry is None else None)
            if known:
                yield from self._missing_meta(doc, meta, ("PubDate",), "error", "详情页", "the detail page")
            else:
                yield Finding(RULE_NO_DATE, "error", doc.rel, tr(
                    "详情页没有发布日期：检查时按未更新计", "the detail page has no publish date: inspections count "
                    "it as not updated"), line=self._meta_line(doc, "PubDate"),
                    suggestion=tr("在内容的 front matter 中写明 date", "give the page a date in its front matter"))
            return
        when = parse_date(pub)
        bad_format = not PUBDATE.match(pub) or when is None
        future = bool(when and when > self.today)
        line = self._meta_line(doc, "PubDate") if bad_format or future else None  # only for a finding
        if bad_format:
            yield Finding(RULE_META, "error", doc.rel, tr(
                "PubDate“{p}”格式不对，应为“YYYY-MM-DD HH:MM”", "PubDate '{p}' must be 'YYYY-MM-DD HH:MM'", p=pub),
                line=line, target=pub)
        if future:
            yield Finding(RULE_FUTURE_DATE, "warning", doc.rel, tr(
                "发布日期 {d} 晚于今天（{t}）：伪造发稿日期属单项否决", "publish date {d} is after today ({t}); "
                "a fabricated publish date is an inspection veto item", d=when, t=self.today), line=line, target=pub)

    # -- site-wide ---------------------------------------------------------------------------

    def finish(self) -> Iterator[Finding]:
        yield from self._placeholders()
        if not self.manifest:
            return
        topics = {t.get("slug"): t for t in self.manifest.get("topics", []) if isinstance(t, dict)}
        for col in self.manifest.get("columns", []):
            if isinstance(col, dict):
                yield from self._column(col, topics.get(col.get("topic")))
        for slug, topic in topics.items():
            end = parse_date(topic.get("end"))
            if end and end < self.today and not topic.get("archived"):
                # zhuanti archives a topic once its end date has passed, so the published pages still
                # presenting it as active were built before the end: they need a rebuild.
                yield Finding(RULE_TOPIC_ENDED, "error", self._topic_page(slug), tr(
                    "专题“{t}”已于 {e} 结束，但发布的页面仍显示为进行中", "topic '{t}' ended on {e} but the published "
                    "pages still present it as active", t=topic.get("title") or slug, e=end), target=slug,
                    suggestion=tr("重新运行 zhuanti build：结束日期已过的专题会自动归档（页面显示“已归档”，不再计入更新检查）；"
                                  "或在 topic.toml 中设置 archived = true",
                                  "run 'zhuanti build' again: a topic past its end date is archived automatically "
                                  "(its pages say so and it leaves the update checks); or set archived = true in "
                                  "topic.toml"))

    def _placeholders(self) -> Iterator[Finding]:
        """The configured identity still holds what ``zhuanti init`` wrote: fake codes on every page."""
        config = self.site.root / SITE_TOML if self.site else None
        try:
            lines = config.read_text(encoding="utf-8-sig").splitlines() if config else []
        except OSError:
            lines = []
        for item in IDENTITY:
            value = self.identity[item.key]
            if not value or not is_placeholder(item.key, value):
                continue
            line = next((i for i, text in enumerate(lines, 1) if re.match(rf"\s*{item.key}\s*=", text)), None)
            where = f"{SITE_TOML} [identity] {item.key}" if self.site else tr("构建清单中的 identity", "the manifest's identity")
            yield Finding(RULE_IDENTITY, "error", "", tr(
                "{l}“{v}”是 zhuanti init 写入的占位值，不是本网站的真实信息：发布后就是虚假备案信息",
                "{l} '{v}' is the placeholder 'zhuanti init' wrote, not this site's own: published, it is a fake "
                "record", l=item.label, v=value), target=item.key, context=value,
                suggestion=tr("在 {w} 中填写真实的{l}", "fill in the real {l} in {w}", w=where, l=item.label),
                source=SITE_TOML if self.site else None, source_line=line)

    def _topic_page(self, slug: str) -> str:
        for path, p in self.pages.items():
            if p.get("topic") == slug and p.get("kind") == "nav":
                return path
        return f"{slug}/index.html"

    def stale_window(self, col: dict) -> int | None:
        """Days within which a column must publish; None when no freshness rule applies."""
        days = col.get("stale_after_days")
        if isinstance(days, int) and not isinstance(days, bool) and days > 0:
            return days
        ctype = str(col.get("column_type") or "")
        if any(k in ctype for k in NEWS_TYPES):
            return self.policy.news_stale_days
        if any(k in ctype for k in NOTICE_TYPES):
            return self.policy.notice_stale_days
        return None

    def _column(self, col: dict, topic: dict | None) -> Iterator[Finding]:
        path = str(col.get("path") or "")
        title = col.get("title") or col.get("name") or path
        ctype = str(col.get("column_type") or "")
        count = col.get("pages")
        if count == 0:
            yield Finding(RULE_EMPTY, "error", path, tr(
                "空白栏目“{t}”：没有任何已发布的信息", "empty column '{t}': nothing has been published in it", t=title),
                target=ctype or None,
                suggestion=tr("补充内容，或在发布前删除该栏目", "add content, or remove the column before publishing"))
            return
        if topic and topic.get("archived"):
            return  # archived 专题 are excluded from freshness checks
        window = self.stale_window(col)
        if window is None:
            return
        latest = parse_date(col.get("latest"))
        if latest is None:
            yield Finding(RULE_STALE, "warning", path, tr(
                "栏目“{t}”的信息都没有发布日期，检查时按未更新计", "no item of column '{t}' has a publish date: "
                "inspections count it as not updated", t=title), target=ctype or None)
            return
        age = (self.today - latest).days
        if age > window:
            yield Finding(RULE_STALE, "warning", path, tr(
                "栏目“{t}”已 {a} 天未更新（最近一次 {l}；应在 {w} 天内更新）",
                "column '{t}' has not been updated for {a} days (last {l}; expected within {w} days)",
                t=title, a=age, l=latest, w=window), target=ctype or None,
                suggestion=tr("发布新信息，或归档该专题", "publish something new, or archive the topic"))


def veto_notes(findings: Iterable[Finding]) -> list[str]:
    """Inspection veto thresholds (单项否决) the findings reach, one sentence each, for CheckResult.notes."""
    findings = list(findings)
    empty = sum(1 for f in findings if f.rule == RULE_EMPTY)
    stale = [f for f in findings if f.rule == RULE_STALE]
    stale_nn = sum(1 for f in stale if f.target and any(k in f.target for k in NEWS_TYPES + NOTICE_TYPES))
    serious = sum(1 for f in findings if f.rule == "word.expression")
    sensitive = sum(1 for f in findings if f.rule == "word.sensitive")
    notes = []
    if empty >= VETO_EMPTY_COLUMNS:
        notes.append(tr(
            "空白栏目 {n} 个，达到单项否决线（空白栏目超过(含){t}个，国办秘函〔2019〕19号）",
            "{n} empty columns: at or above the inspection veto threshold of {t} (国办秘函〔2019〕19号)",
            n=empty, t=VETO_EMPTY_COLUMNS))
    if stale_nn >= VETO_STALE_NEWS_NOTICE:
        notes.append(tr(
            "动态要闻类（2 周）和通知公告、政策文件类（6 个月）未更新栏目 {n} 个，达到单项否决线（累计超过(含){t}个）",
            "{n} news (2 weeks) and notice/policy (6 months) columns not updated: at or above the veto threshold "
            "of {t}", n=stale_nn, t=VETO_STALE_NEWS_NOTICE))
    if len(stale) >= VETO_STALE_ANY:
        notes.append(tr(
            "应更新但长期未更新的栏目 {n} 个，达到单项否决线（超过(含){t}个）",
            "{n} columns not updated as they should be: at or above the veto threshold of {t}",
            n=len(stale), t=VETO_STALE_ANY))
    if serious >= VETO_SERIOUS_WORDS:
        notes.append(tr(
            "严重表述错误 {n} 处：严重错别字超过 3 次即判定为不合格",
            "{n} serious wording errors: more than 3 serious typos fail the inspection", n=serious))
    if sensitive >= VETO_SENSITIVE_WORDS:
        notes.append(tr(
            "敏感词 {n} 处：发布反动、暴力、色情等内容属单项否决（安全、泄密事故等严重问题）",
            "{n} sensitive words: publishing reactionary, violent or pornographic content is an inspection veto item",
            n=sensitive))
    return notes
