"""URL classification shared by the link families: clean a raw href, tell internal from external,
and judge an external URL against the domain policy (allow-list, risky TLDs, IP literals, keywords).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, unquote_to_bytes, urlsplit

from builder.checks.base import Memo
from builder.config import CheckConfig, SiteConfig
from builder.i18n import tr

# Only http(s) links are checked; mailto:, tel:, javascript:, data: and every other scheme are skipped
# (file: and C:\ paths are reported: they point at the editor's own disk).
WEB_SCHEMES = frozenset({"http", "https"})
# Browsers cope with much longer URLs, but nothing a person wrote is this long: it is injected
# data or a template that ran away.
MAX_URL_LENGTH = 8192
MAX_REMEMBERED_HOSTS = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Per the URL standard, browsers drop ASCII tab and newlines anywhere in a URL.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# A plain path (../topic/page/, /zt/a.html): the usual link, classified without cleaning or splitting.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._~/-]+")
_PLAIN_WEB_URL = re.compile(r"(https?)://([a-z0-9.-]+)(/[A-Za-z0-9._~/-]*)?")

# Keywords in a URL that mark gambling, pornography or advertising (C2). Words of the first tuple
# match anywhere; words of the second only as a whole token ("bet" in bet.example.com, not "alphabet").
_KEYWORDS = {
    "gambling": (
        ("casino", "bocai", "baccarat", "sbobet", "bet365", "188bet", "pokerstars", "amxpj", "zhenrenyule",
         "duchang", "博彩", "赌场", "赌博", "百家乐", "六合彩", "时时彩", "真人娱乐", "太阳城", "葡京", "威尼斯人",
         "澳门赌", "棋牌游戏", "老虎机", "下注"),
        ("bet", "poker", "xpj", "qipai", "dubo"),
    ),
    "porn": (
        ("porn", "xvideos", "xnxx", "xhamster", "hentai", "youporn", "redtube", "onlyfans", "色情", "成人影片",
         "成人视频", "黄色网站", "黄片", "情色", "一本道", "裸聊", "约炮", "av女优"),
        ("sex", "jav", "nude"),
    ),
    "ads": (
        ("doubleclick", "googlesyndication", "googleadservices", "adservice", "adsystem", "adnxs",
         "taboola", "outbrain", "cpro.baidu", "pos.baidu", "tanx.com", "adserver", "advert", "广告联盟"),
        ("ads", "adx"),
    ),
}


def _keyword_patterns(words: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[re.Pattern, re.Pattern]:
    """(distinctive words anywhere, short words as whole tokens)."""
    anywhere, tokens = words
    return (re.compile("|".join(re.escape(w) for w in sorted(anywhere, key=len, reverse=True))),
            re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in tokens) + r")(?![a-z])"))


_KEYWORD_PATTERNS = tuple((category, *_keyword_patterns(words)) for category, words in _KEYWORDS.items())


def keyword_category_name(category: str) -> str:
    return {
        "gambling": tr("赌博", "gambling"),
        "porn": tr("色情", "pornography"),
        "ads": tr("广告", "advertising"),
    }[category]


def find_keyword(text: str, short_words: bool = True) -> tuple[str, str] | None:
    """(category, matched word) of the first gambling/porn/ad keyword in ``text``, or None.

    ``short_words=False`` leaves out the short ASCII tokens ("sex", "bet"), which are too easily part
    of an innocent path on an allowed (government) domain."""
    low = text.lower()
    for category, anywhere, tokens in _KEYWORD_PATTERNS:
        m = anywhere.search(low) or (tokens.search(low) if short_words else None)
        if m:
            return category, m.group(0)
    return None


@dataclass(frozen=True, slots=True)
class SiteOrigin:
    """Where the checked folder lives on the web: host of base_url (may be empty) and its path prefix."""

    host: str = ""
    prefix: str = "/"
    https: bool = False

    @classmethod
    def of(cls, site: SiteConfig | None, manifest: dict | None = None) -> SiteOrigin:
        base = site.base_url if site is not None else ""
        if not base and isinstance(manifest, dict) and isinstance(manifest.get("base_url"), str):
            base = manifest["base_url"]
        try:
            parts = urlsplit(base.strip())
        except ValueError:
            return cls()
        prefix = parts.path or "/"
        if not prefix.startswith("/"):
            prefix = "/" + prefix
        if not prefix.endswith("/"):
            prefix += "/"
        return cls(host=normal_host(parts.hostname or ""), prefix=prefix, https=parts.scheme == "https")


def normal_host(host: str) -> str:
    """Lower-case ASCII (IDNA) form of a host name, without a trailing dot."""
    host = host.strip().rstrip(".").lower()
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


# Characters a reader cannot see that still change the URL (pasted from Word, WeChat or a PDF): the
# link looks right and leads nowhere. Named so the editor knows what to delete.
INVISIBLE = {"\u200b": "零宽空格 ZERO WIDTH SPACE", "\u200c": "零宽不连字 ZERO WIDTH NON-JOINER",
             "\u200d": "零宽连字 ZERO WIDTH JOINER", "\u200e": "从左至右标记 LEFT-TO-RIGHT MARK",
             "\u200f": "从右至左标记 RIGHT-TO-LEFT MARK", "\u2060": "字连接符 WORD JOINER",
             "\ufeff": "字节顺序标记 BOM", "\u00ad": "软连字符 SOFT HYPHEN", "\u202a": "双向控制符 LRE",
             "\u202b": "双向控制符 RLE", "\u202c": "双向控制符 PDF", "\u202d": "双向控制符 LRO",
             "\u202e": "双向控制符 RLO", "\u3000": "全角空格 IDEOGRAPHIC SPACE"}
_INVISIBLE = re.compile("[" + "".join(INVISIBLE) + "]|%E2%80%8[B-F]|%EF%BB%BF|%C2%AD|%E3%80%80", re.IGNORECASE)


def invisible_problem(url: str) -> str | None:
    """Why a URL with an invisible character is unusable (which character, where), else None."""
    m = _INVISIBLE.search(url)
    if not m:
        return None
    found = m.group(0)
    char = found if len(found) == 1 else unquote_to_bytes(found).decode("utf-8", "replace")
    return tr("链接含有不可见字符 U+{c:04X}（{n}），位于第 {i} 个字符处：读者看不到，链接却因此失效",
              "the link contains the invisible character U+{c:04X} ({n}) at character {i}: readers cannot see "
              "it, yet it breaks the link", c=ord(char), n=INVISIBLE.get(char, "?"), i=m.start() + 1)


def mailto_problem(url: str) -> str | None:
    """A ``mailto:`` link whose address has no domain (``mailto:office``, ``mailto:a@``), else None."""
    address = url.split(":", 1)[1].split("?", 1)[0]
    addresses = [a.strip() for a in unquote_to_bytes(address).decode("utf-8", "replace").split(",") if a.strip()]
    if not addresses:
        return None if "?" in url else tr("邮件链接没有邮箱地址", "the mail link has no address")
    for a in addresses:
        local, at, domain = a.rpartition("@")
        if not at or not local or "." not in domain.strip(".") or domain.startswith(".") or domain.endswith("."):
            return tr("邮件地址“{a}”缺少域名（应为 名称@单位域名）", "the mail address '{a}' has no domain "
                      "(write name@domain)", a=a)
    return None


def clean_url(raw: str) -> tuple[str, str | None]:
    """The URL a browser would use for ``raw`` and, when it is unusable, why (a translated reason)."""
    if len(raw) > MAX_URL_LENGTH:
        return raw, tr("链接长度异常（{n} 个字符），可能是被注入的数据", "the link is absurdly long "
                       "({n} characters); it may be injected data", n=len(raw))
    url = _TAB_NEWLINE.sub("", raw.strip(" \t\n\r\f\x00"))
    m = _CONTROL.search(url)
    if m:
        return url, tr("链接含有控制字符 U+{c:04X}", "the link contains the control character U+{c:04X}",
                       c=ord(m.group(0)))
    invisible = invisible_problem(url)
    if invisible:
        return url, invisible
    return url.replace("\\", "/") if "\\" in url and not url.lower().startswith(("javascript:", "data:")) else url, None


def split(url: str) -> SplitResult | None:
    """urlsplit that answers None instead of raising on a malformed URL (e.g. ``http://[x``)."""
    try:
        parts = urlsplit(url)
        if parts.netloc:  # without one there is no port to get wrong
            parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return parts


def decode_path(path: str) -> str:
    """Percent-decoded path: UTF-8 as browsers send it, GB18030 for links written by older CMSs."""
    if "%" not in path:
        return path
    data = unquote_to_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def decode_fragment(fragment: str) -> str:
    return unquote(fragment, errors="replace") if "%" in fragment else fragment


def host_in(host: str, domains: Iterable[str]) -> bool:
    """Suffix match on a label boundary: ``gov.cn`` covers ``www.beijing.gov.cn``, not ``evilgov.cn``."""
    host = normal_host(host)
    for domain in domains:
        d = normal_host(domain.lstrip("*."))
        if d and (host == d or host.endswith("." + d)):
            return True
    return False


def ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Verdict:
    """The domain policy's view of one external URL."""

    severity: str  # "error" (risky) or "warning" (outside the allow-list)
    reason: str


class DomainPolicy:
    """External-link review (外链审核): allow-list by domain suffix, plus risk signals that are errors."""

    def __init__(self, allowed: Iterable[str], risky_tlds: Iterable[str]) -> None:
        self.allowed = tuple(d for d in (normal_host(a.lstrip("*.")) for a in allowed) if d)
        self.risky_tlds = frozenset(t.strip(".").lower() for t in risky_tlds if t.strip("."))
        self._allows = Memo(self._allowed, MAX_REMEMBERED_HOSTS)  # host → allowed (pages link the same few hosts)

    @classmethod
    def of(cls, site: SiteConfig | None) -> DomainPolicy:
        cfg = site.check if site is not None else CheckConfig()
        return cls(cfg.allowed_domains, cfg.risky_tlds)

    def allows(self, host: str) -> bool:
        return self._allows[host]

    def _allowed(self, host: str) -> bool:
        return host_in(host, self.allowed)

    def judge(self, url: str, host: str) -> Verdict | None:
        """None when the URL is on an allowed domain and shows no risk signal."""
        host = normal_host(host)
        allowed = self._allows[host]
        hit = find_keyword(decode_path(url), short_words=not allowed)
        if hit:
            return Verdict("error", tr("链接地址含有{c}类关键词“{w}”", "the URL contains the {c} keyword '{w}'",
                                       c=keyword_category_name(hit[0]), w=hit[1]))
        if not allowed:
            if ip_literal(host):
                return Verdict("error", tr("链接指向 IP 地址 {h}，而不是域名", "the link points at the IP "
                                           "address {h} instead of a domain name", h=host))
            tld = host.rsplit(".", 1)[-1]
            if tld in self.risky_tlds:
                return Verdict("error", tr("域名 {h} 使用高风险顶级域 .{t}", "the domain {h} uses the high-risk "
                                           "top-level domain .{t}", h=host, t=tld))
            return Verdict("warning", tr("外部域名 {h} 不在允许列表中（check.allowed_domains），请审核",
                                         "the external domain {h} is not in the allow-list "
                                         "(check.allowed_domains); review it", h=host))
        return None


@dataclass(frozen=True, slots=True)
class Classified:
    """A cleaned link: ``kind`` is skip, invalid, local-file, internal or external."""

    kind: str
    url: str
    parts: SplitResult | None = None
    problem: str | None = None


def classify(raw: str, origin: SiteOrigin) -> Classified:
    """Sort a raw attribute value into what the link checks do with it."""
    if len(raw) <= MAX_URL_LENGTH:
        # nothing to clean, no query or fragment, no port or user in the host: what the steps below
        # make of a plain path, or of http(s)://host/plain-path
        if _PLAIN_PATH.fullmatch(raw) and not raw.startswith("//"):
            return Classified("internal", raw, SplitResult("", "", raw, "", ""))
        m = _PLAIN_WEB_URL.fullmatch(raw)
        if m:
            host = normal_host(m.group(2))
            if host:
                parts = SplitResult(m.group(1), m.group(2), m.group(3) or "", "", "")
                return Classified("internal" if origin.host and host == origin.host else "external", raw, parts)
    return classify_any(raw, origin)


def classify_any(raw: str, origin: SiteOrigin) -> Classified:
    """``classify`` without its shortcut for plain paths, step by step."""
    url, problem = clean_url(raw)
    if problem:
        return Classified("invalid", url, problem=problem)
    parts = split(url)
    if parts is None:
        return Classified("invalid", url, problem=tr("链接格式错误，无法解析", "the link is malformed and "
                                                     "cannot be parsed"))
    scheme = parts.scheme.lower()
    if scheme == "file" or (len(scheme) == 1 and scheme.isalpha()):
        return Classified("local-file", url, parts, tr("链接指向编辑者电脑上的本地文件", "the link points at "
                                                        "a file on the editor's own computer"))
    if scheme == "mailto":
        problem = mailto_problem(url)
        return Classified("invalid", url, parts, problem) if problem else Classified("skip", url, parts)
    if scheme and scheme not in WEB_SCHEMES:
        return Classified("skip", url, parts)
    if scheme or url.startswith("//"):
        host = normal_host(parts.hostname or "")
        if not host:
            return Classified("invalid", url, parts, tr("链接缺少域名", "the link has no host name"))
        if origin.host and host == origin.host:
            return Classified("internal", url, parts)
        return Classified("external", url, parts)
    return Classified("internal", url, parts)
