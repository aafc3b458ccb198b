"""Turns a check run into text (grouped by page), JSON (SPEC schema), JUnit XML and a
self-contained HTML report (Chinese by default) — the one place findings become output."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from builder.checks.axe_titles import AXE_TITLES_ZH
from builder.checks.base import SEVERITIES, CheckResult, Finding, severity_rank
from builder.i18n import current_language, tr

FINDING_FIELDS = ("rule", "severity", "page", "line", "target", "context", "suggestion", "message", "source",
                  "source_line")
SEVERITY_COLORS = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
_RICH_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}
# What rich changes in plain text: tabs (expanded) and the control characters it drops.
_RICH_REWRITES = re.compile("[\t\x07\x08\x0b\x0c\r]")
# Characters XML 1.0 does not allow, even escaped (a finding's context is page text).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

# (zh, en) names of the rules, for readers who do not know the rule ids.
RULE_TITLES = {
    "link.broken": ("错链 / 死链", "broken link"),
    "link.anchor": ("锚点不存在", "missing anchor"),
    "link.blank-title": ("空白标题链接", "link without text"),
    "link.external-dead": ("外部链接失效", "dead external link"),
    "link.external-domain": ("外链域名不在允许列表", "external domain not allowed"),
    "link.hidden": ("暗链", "hidden link"),
    "link.insecure": ("不安全的 http 链接", "insecure http link"),
    "word.typo": ("错别字", "wrong word"),
    "word.sensitive": ("敏感词", "sensitive word"),
    "word.expression": ("严重表述错误", "serious wrong expression"),
    "site.identity": ("网站标识缺失", "footer identity missing"),
    "site.empty-column": ("空白栏目", "empty column"),
    "site.stale-column": ("栏目不更新", "stale column"),
    "site.meta": ("网页元数据缺失", "page meta tags missing"),
    "site.no-date": ("未注明发布时间", "no publish date"),
    "site.future-date": ("发布时间在未来", "publish date in the future"),
    "site.topic-ended": ("专题已过结束日期", "topic past its end date"),
    "word.list": ("词表文件问题", "word list problem"),
    "word.limit": ("错敏词未全部检查", "words partly checked"),
    "check.unreadable": ("无法读取的文件", "unreadable file"),
    "check.encoding": ("乱码", "invalid encoding"),
    "check.large-page": ("页面过大", "page too large"),
    "check.internal-error": ("检查程序出错", "check failed"),
}
_FAMILY_TITLES = {"mobile": ("移动端适配", "mobile"), "a11y": ("无障碍", "accessibility"),
                  "site": ("网站规范", "site rules"), "link": ("链接", "links"), "word": ("错敏词", "words")}


def rule_title(rule: str) -> str:
    pair = RULE_TITLES.get(rule) or _FAMILY_TITLES.get(rule.split(".", 1)[0])
    return tr(*pair) if pair else rule


def severity_label(severity: str) -> str:
    return {"error": tr("错误", "error"), "warning": tr("警告", "warning"),
            "info": tr("提示", "info")}.get(severity, severity)


def page_label(page: str) -> str:
    return page or tr("（全站）", "(site-wide)")


def messages(result: CheckResult) -> list[str]:
    """What the checks said about the run (a CheckRun's ``messages``; none for a plain CheckResult)."""
    return list(getattr(result, "messages", ()))


def checked_pages(result: CheckResult) -> list[str]:
    """Every page of the run (the runner's list when known), plus pages only findings name."""
    listed = getattr(result, "page_list", None) or []
    extra = {f.page for f in result.findings} - set(listed)
    return list(listed) + sorted(extra)


def by_page(result: CheckResult) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by page: site-wide first, then the home page, then the others by path."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        groups[f.page].append(f)
    order = sorted(groups, key=lambda p: (p != "", p != result.home_page, p))
    return [(p, sorted(groups[p], key=lambda f: (f.line or 0, -severity_rank(f.severity), f.rule)))
            for p in order]


def summary(result: CheckResult, fail_on: str = "error") -> dict:
    data = result.summary()
    data["infos"] = result.count("info")
    data["home_page"] = result.home_page
    data["fail_on"] = fail_on
    data["passed"] = not result.failed(fail_on)
    data["messages"] = messages(result)
    return data


# ---------------------------------------------------------------- JSON


def render_json(result: CheckResult, fail_on: str = "error") -> str:
    findings = [{k: getattr(f, k) for k in FINDING_FIELDS} for f in result.findings]
    return json.dumps({"summary": summary(result, fail_on), "findings": findings},
                      ensure_ascii=False, indent=1) + "\n"


# ---------------------------------------------------------------- text


def render_text(result: CheckResult, *, color: bool = False, width: int = 100, fail_on: str = "error") -> str:
    """The report for a terminal (``color``) or a file: findings grouped by page, then the totals."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                      width=width, highlight=False, soft_wrap=True, emoji=False)

    def emit(text: Text) -> None:
        # Without colour rich prints the plain text, unless it has to expand tabs or drop control
        # characters: then it does the printing (thousands of findings cost ~0.2 ms each through rich).
        if color or _RICH_REWRITES.search(text.plain):
            console.print(text)
        else:
            buf.write(text.plain + "\n")

    for page, findings in by_page(result):
        emit(Text(page_label(page) + (tr("（首页）", " (home page)") if page == result.home_page else ""),
                  style="bold underline"))
        for f in findings:
            line = Text("  ")
            if f.source:  # what the editor opens comes first
                line.append(source_label(f) + "  ", style="cyan")
            line.append(f"{f.line or '-':>5}  ", style="dim")
            line.append(f"{severity_label(f.severity)}  ", style=_RICH_STYLES.get(f.severity))
            line.append(f"{f.rule}  ", style="bold")
            line.append(f.message)
            if f.target:
                line.append(f"  → {f.target}", style="magenta")
            emit(line)
            if f.context:
                emit(Text("         " + tr("上下文：", "context: ") + _one_line(f.context), style="dim"))
            if f.suggestion:
                emit(Text("         " + tr("建议：", "suggestion: ") + _one_line(f.suggestion), style="green"))
        emit(Text(""))
    _text_totals(console, result, fail_on)
    return buf.getvalue()


def _text_totals(console: Console, result: CheckResult, fail_on: str) -> None:
    s = result.summary()
    console.print(Text(tr("共检查 {p} 个页面：{e} 个错误，{w} 个警告，{i} 条提示",
                          "{p} pages checked: {e} errors, {w} warnings, {i} notices",
                          p=result.pages, e=s["errors"], w=s["warnings"], i=result.count("info")), style="bold"))
    if s["by_rule"]:
        console.print(Text(tr("按规则（首页 / 其他页面）：", "by rule (home page / other pages):")))
        for rule, n in s["by_rule"].items():
            console.print(Text(f"  {rule:<28} {n:>6}   ({s['home_by_rule'].get(rule, 0)} / "
                               f"{s['other_by_rule'].get(rule, 0)})  {rule_title(rule)}"))
    for note in result.notes:
        console.print(Text("! " + note, style="bold red"))
    for message in messages(result):
        console.print(Text(message, style="dim"))
    if result.failed(fail_on):
        console.print(Text(tr("结论：未通过（存在“{s}”及以上级别的问题）", "verdict: FAILED (findings at {s} or above)",
                              s=severity_label(fail_on)), style="bold red"))
    else:
        console.print(Text(tr("结论：通过", "verdict: passed"), style="bold green"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- JUnit


def xml_safe(text: str | None) -> str:
    return _XML_ILLEGAL.sub("", text or "")


def render_junit(result: CheckResult, *, seconds: float = 0.0, fail_on: str = "error") -> str:
    """One testcase per page. Only findings at or above ``fail_on`` are a <failure> (so CI's colour
    agrees with the exit code); the others are listed in the case's <system-out>."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        groups[f.page].append(f)
    pages = checked_pages(result)
    bar = severity_rank(fail_on)

    def fails(f: Finding) -> bool:
        return severity_rank(f.severity) >= bar

    failing = sum(1 for p in pages if any(fails(f) for f in groups.get(p, ())))
    suites = ET.Element("testsuites", name="zhuanti check", tests=str(len(pages)), failures=str(failing),
                        errors="0", time=f"{seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", name="zhuanti check", tests=str(len(pages)),
                          failures=str(failing), errors="0", skipped="0", time=f"{seconds:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="folder", value=xml_safe(result.root))
    ET.SubElement(props, "property", name="fail_on", value=fail_on)
    for page in pages:
        findings = sorted(groups.get(page, ()), key=lambda f: (f.line or 0, f.rule))
        case = ET.SubElement(suite, "testcase", classname="zhuanti.check",
                             name=xml_safe(page or "(site)"), file=xml_safe(page or ""))
        serious = [f for f in findings if fails(f)]
        if serious:
            counts = Counter(f.severity for f in serious)
            worst = max(serious, key=lambda f: severity_rank(f.severity))
            failure = ET.SubElement(case, "failure", type=worst.rule, message=xml_safe(
                tr("{e} 个错误，{w} 个警告：{r}", "{e} error(s), {w} warning(s): {r}", e=counts["error"],
                   w=counts["warning"], r=", ".join(sorted({f.rule for f in serious})))))
            failure.text = xml_safe("\n".join(_junit_line(f) for f in serious))
        infos = [f for f in findings if not fails(f)]
        if infos:
            ET.SubElement(case, "system-out").text = xml_safe("\n".join(_junit_line(f) for f in infos))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _junit_line(f: Finding) -> str:
    parts = [f"[{f.severity}] {f.rule}", source_label(f), f"{tr('第', 'line ')}{f.line}{tr(' 行', '')}" if f.line else "",
             f.message]
    if f.target:
        parts.append(f"→ {f.target}")
    if f.context:
        parts.append(tr("上下文：", "context: ") + _one_line(f.context))
    if f.suggestion:
        parts.append(tr("建议：", "suggestion: ") + _one_line(f.suggestion))
    return " | ".join(p for p in parts if p)


# ---------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.6 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
 color:#222;background:#f4f5f7}
header{background:#9b1c1c;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9;word-break:break-all}
main{padding:18px 28px;max-width:1400px;margin:0 auto}
h2{font-size:17px;margin:26px 0 10px;border-left:4px solid #9b1c1c;padding-left:8px}
.verdict{display:inline-block;padding:1px 10px;border-radius:10px;font-weight:bold;margin-left:6px}
.verdict.pass{background:#2e7d32}.verdict.fail{background:#fff;color:#9b1c1c}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{background:#fff;border-radius:6px;padding:12px 18px;min-width:130px;box-shadow:0 1px 2px rgba(0,0,0,.12)}
.tile b{display:block;font-size:26px;line-height:1.2}
.tile span{color:#555}
.tile.error b{color:#c62828}.tile.warning b{color:#ef6c00}.tile.info b{color:#1565c0}
.notes{background:#fff3f3;border:1px solid #e57373;border-radius:6px;padding:8px 16px;margin-top:14px}
.notes li{color:#9b1c1c;font-weight:bold}
.card{background:#fff;border-radius:6px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.12);overflow-x:auto}
svg text{font-family:inherit}
svg .bar{cursor:pointer}
svg .bar:hover{opacity:.8}
.filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;background:#fff;padding:10px 16px;
 border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.12);position:sticky;top:0;z-index:2}
.filters input[type=search]{padding:3px 6px;min-width:220px}
section.page{margin:14px 0;background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.12);overflow-x:auto}
section.page h3{margin:0;padding:8px 14px;font-size:15px;background:#fafafa;border-bottom:1px solid #eee;
 word-break:break-all}
.home{background:#9b1c1c;color:#fff;border-radius:3px;padding:0 6px;font-size:12px;margin-left:6px}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-weight:normal;color:#666;white-space:nowrap}
td.ctx{max-width:420px;word-break:break-all;color:#444}
td.tgt{max-width:260px;word-break:break-all;font-family:monospace}
td.sev span{color:#fff;border-radius:3px;padding:0 6px;white-space:nowrap}
.sev-error{background:#c62828}.sev-warning{background:#ef6c00}.sev-info{background:#1565c0}
mark{background:#ffeb3b;color:#000;font-weight:bold;padding:0 1px}
.rule{white-space:nowrap}.rule small{display:block;color:#777}
.empty{color:#2e7d32;font-weight:bold}
table.by-rule{width:auto;margin-top:10px}table.by-rule td:not(.rule){text-align:right}
footer{color:#888;text-align:center;padding:20px}
.shots{display:flex;gap:12px;overflow-x:auto;padding:10px 14px;align-items:flex-start}
.shots figure{margin:0;flex:none;max-width:100%}
.shots img{display:block;max-width:100%;height:auto;border:1px solid #ccc;border-radius:4px;background:#fff}
.shots figcaption{font-size:12px;color:#555;max-width:240px;word-break:break-all}
.shots.tpl img{width:180px}.shots.tpl .wide img{width:240px}
.shots.page img{width:200px}.shots.page .wide img{width:260px}
.tpl-row h3{margin:0;padding:8px 14px 0;font-size:15px;word-break:break-all}
.shots-link{margin:6px 14px}
@media (max-width:600px){header,main{padding:12px}.filters input[type=search]{min-width:0;width:100%}
 .tile{min-width:0;flex:1 1 40%}.filters{position:static}.card{padding:8px}.shots{padding:8px 0}
 .tpl-row h3{padding:8px 0 0}}
"""

_JS = """
(function(){
 var rule=document.getElementById('f-rule'),text=document.getElementById('f-text'),
  count=document.getElementById('f-count'),sev=document.querySelectorAll('input[name=f-sev]'),
  pages=document.querySelectorAll('section.page');
 function apply(){
  var r=rule.value,t=text.value.trim().toLowerCase(),on={},shown=0;
  sev.forEach(function(c){on[c.value]=c.checked;});
  pages.forEach(function(s){
   var n=0;
   s.querySelectorAll('tbody tr').forEach(function(row){
    var ok=on[row.getAttribute('data-severity')]&&(!r||row.getAttribute('data-rule')===r)&&
     (!t||row.textContent.toLowerCase().indexOf(t)>=0||s.getAttribute('data-page').toLowerCase().indexOf(t)>=0);
    row.hidden=!ok;if(ok)n++;});
   s.hidden=n===0;shown+=n;});
  count.textContent=shown;
 }
 rule.addEventListener('change',apply);text.addEventListener('input',apply);
 sev.forEach(function(c){c.addEventListener('change',apply);});
 document.querySelectorAll('svg .bar').forEach(function(b){b.addEventListener('click',function(){
  var v=b.getAttribute('data-rule');rule.value=(rule.value===v?'':v);apply();
  document.getElementById('filters').scrollIntoView();});});
 apply();
})();
"""

# No resource may load from anywhere: the report is opened from disk, mailed and archived.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def highlight(context: str | None, target: str | None) -> str:
    """``context`` escaped, with each occurrence of ``target`` (the matched word) in <mark>."""
    if not context:
        return ""
    if not target or target not in context:
        return _e(context)
    return f"<mark>{_e(target)}</mark>".join(_e(part) for part in context.split(target))


def render_html(result: CheckResult, *, trend: Sequence[dict] = (), fail_on: str = "error",
                generated: str = "", seconds: float = 0.0) -> str:
    """A single self-contained page: tiles, a chart by rule, the trend, filters, a table per page."""
    s = result.summary()
    passed = not result.failed(fail_on)
    title = tr("网站检查报告", "Site check report")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if current_language() == "en" else "zh-CN"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{_e(title)} – {_e(result.root)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}<span class=\"verdict {'pass' if passed else 'fail'}\">"
        f"{_e(tr('通过', 'passed') if passed else tr('未通过', 'failed'))}</span></h1>",
        f"<p>{_e(tr('检查目录：', 'folder: '))}{_e(result.root)}"
        + (f" · {_e(tr('检查时间：', 'checked at: '))}{_e(generated)}" if generated else "")
        + (f" · {_e(tr('用时 {s} 秒', '{s} s', s=round(seconds, 2)))}" if seconds else "")
        + f" · {_e(tr('失败级别：', 'fails on: '))}{_e(severity_label(fail_on))}</p>"
        + "".join(f"<p>{_e(m)}</p>" for m in messages(result)) + "</header><main>",
        _tiles(result, s),
    ]
    if result.notes:
        parts.append(f'<div class="notes"><b>{_e(tr("单项否决风险", "inspection veto risk"))}</b><ul>'
                     + "".join(f"<li>{_e(n)}</li>" for n in result.notes) + "</ul></div>")
    parts.append(f"<h2>{_e(tr('按规则统计', 'Findings by rule'))}</h2><div class=\"card\">{bar_chart(result)}"
                 f"{_rule_table(s)}</div>")
    parts.append(f"<h2>{_e(tr('历次检查趋势', 'Trend across runs'))}</h2><div class=\"card\">{trend_chart(trend)}</div>")
    shots = list(getattr(result, "screenshots", None) or ())
    parts.append(template_screenshots(shots))
    parts.append(f"<h2>{_e(tr('问题明细', 'Findings'))}</h2>")
    if result.findings:
        parts.append(_filters(result))
        parts.extend(_page_section(page, findings, page == result.home_page, page_screenshots(shots, page))
                     for page, findings in by_page(result))
        parts.append(f"<script>{_JS}</script>")
    else:
        parts.append(f'<p class="empty">{_e(tr("没有发现问题。", "No findings."))}</p>')
    parts.append(f"</main><footer>zhuanti check · {_e(generated)}</footer></body></html>\n")
    return "\n".join(parts)


def _tiles(result: CheckResult, s: dict) -> str:
    home = sum(s["home_by_rule"].values())
    tiles = [
        ("", result.pages, tr("检查页面", "pages checked")),
        ("error", s["errors"], tr("错误", "errors")),
        ("warning", s["warnings"], tr("警告", "warnings")),
        ("info", result.count("info"), tr("提示", "notices")),
        ("", home, tr("首页问题", "on the home page")),
        ("", len(result.findings) - home, tr("其他页面问题", "on other pages")),
        ("", len({f.page for f in result.findings}), tr("有问题的页面", "pages with findings")),
    ]
    return '<div class="tiles">' + "".join(
        f'<div class="tile {cls}"><b>{n}</b><span>{_e(label)}</span></div>' for cls, n, label in tiles) + "</div>"


def bar_chart(result: CheckResult) -> str:
    """Inline SVG: one horizontal bar per rule (``rect.bar``), coloured by the rule's worst severity."""
    counts = Counter(f.rule for f in result.findings)
    if not counts:
        return f'<p class="empty">{_e(tr("没有发现问题。", "No findings."))}</p>'
    worst: dict[str, str] = {}
    home = Counter(f.rule for f in result.findings if f.page == result.home_page)
    for f in result.findings:
        if severity_rank(f.severity) > severity_rank(worst.get(f.rule, "info")):
            worst[f.rule] = f.severity
    rules = sorted(counts, key=lambda r: (-counts[r], r))
    label_w, bar_w, row_h, top = 300, 520, 26, 8
    width, height = label_w + bar_w + 80, top * 2 + row_h * len(rules)
    peak = max(counts.values())
    rows = []
    for i, rule in enumerate(rules):
        y = top + i * row_h
        w = max(2.0, bar_w * counts[rule] / peak)
        color = SEVERITY_COLORS[worst.get(rule, "info")]
        tip = tr("{r}（{t}）：{n} 处，首页 {h} 处", "{r} ({t}): {n}, {h} on the home page",
                 r=rule, t=rule_title(rule), n=counts[rule], h=home.get(rule, 0))
        rows.append(
            f'<text x="{label_w - 8}" y="{y + row_h * 0.65:.1f}" text-anchor="end" font-size="13">'
            f"{_e(rule_title(rule))} · {_e(rule)}</text>"
            f'<rect class="bar" data-rule="{_e(rule)}" x="{label_w}" y="{y + 4}" width="{w:.1f}" '
            f'height="{row_h - 8}" rx="2" fill="{color}"><title>{_e(tip)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + row_h * 0.65:.1f}" font-size="13">{counts[rule]}</text>')
    return (f'<svg id="chart-by-rule" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{_e(tr("按规则统计的问题数", "findings by rule"))}">'
            + "".join(rows) + "</svg>")


def _rule_table(s: dict) -> str:
    """Counts per rule on the home page and on the other pages: inspections count them apart."""
    if not s["by_rule"]:
        return ""
    rows = "".join(
        f'<tr><td class="rule">{_e(rule)}<small>{_e(rule_title(rule))}</small></td>'
        f'<td>{s["home_by_rule"].get(rule, 0)}</td><td>{s["other_by_rule"].get(rule, 0)}</td><td>{n}</td></tr>'
        for rule, n in sorted(s["by_rule"].items(), key=lambda item: (-item[1], item[0])))
    return (f'<table class="by-rule"><thead><tr><th>{_e(tr("规则", "rule"))}</th><th>{_e(tr("首页", "home page"))}</th>'
            f'<th>{_e(tr("其他页面", "other pages"))}</th><th>{_e(tr("合计", "total"))}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def trend_chart(runs: Sequence[dict]) -> str:
    """Inline SVG: errors and warnings of the stored runs on this folder, oldest to newest."""
    if not runs:
        return f'<p>{_e(tr("暂无历史记录。", "No earlier runs recorded."))}</p>'
    width, height, left, right, top, bottom = 860, 220, 50, 20, 16, 40
    peak = max(1, *(max(r["errors"], r["warnings"]) for r in runs))
    span = max(1, len(runs) - 1)

    def point(i: int, v: int) -> tuple[float, float]:
        x = left + (width - left - right) * (i / span if len(runs) > 1 else 0.5)
        return x, top + (height - top - bottom) * (1 - v / peak)

    out = [f'<svg id="chart-trend" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" aria-label="{_e(tr("历次检查趋势", "trend across runs"))}">',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
           f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
           f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end" font-size="11">0</text>']
    for key, severity in (("warnings", "warning"), ("errors", "error")):
        color = SEVERITY_COLORS[severity]
        pts = [point(i, r[key]) for i, r in enumerate(runs)]
        if len(pts) > 1:
            out.append(f'<polyline class="trend-{key}" fill="none" stroke="{color}" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for (x, y), r in zip(pts, runs, strict=True):
            tip = tr("{t}：{n} 个{s}，{p} 个页面，{v}", "{t}: {n} {s}s, {p} pages, {v}", t=_local_time(r["time"]), n=r[key],
                     s=severity_label(severity), p=r["pages"],
                     v=tr("通过", "passed") if r["verdict"] == "pass" else tr("未通过", "failed"))
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"><title>{_e(tip)}</title></circle>')
    for i in sorted({0, len(runs) - 1}):
        x, _ = point(i, 0)
        anchor = "middle" if len(runs) == 1 else "start" if i == 0 else "end"
        out.append(f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="{anchor}" font-size="11">'
                   f"{_e(_local_time(runs[i]['time']))}</text>")
    legend_y = height - 8
    out.append(f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="{SEVERITY_COLORS["error"]}"/>'
               f'<text x="{left + 14}" y="{legend_y}" font-size="12">{_e(tr("错误", "errors"))}</text>'
               f'<rect x="{left + 70}" y="{legend_y - 9}" width="10" height="10" fill="{SEVERITY_COLORS["warning"]}"/>'
               f'<text x="{left + 84}" y="{legend_y}" font-size="12">{_e(tr("警告", "warnings"))}</text>'
               f'<text x="{width - right}" y="{legend_y}" text-anchor="end" font-size="12">'
               f"{_e(tr('共 {n} 次检查', '{n} runs', n=len(runs)))}</text>")
    out.append("</svg>")
    return "".join(out)


def _local_time(stamp: str) -> str:
    """A stored UTC time as the reader's local ``YYYY-MM-DD HH:MM``."""
    try:
        return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(stamp)[:16]


def _filters(result: CheckResult) -> str:
    counts = Counter(f.rule for f in result.findings)
    options = "".join(f'<option value="{_e(r)}">{_e(r)} · {_e(rule_title(r))}（{n}）</option>'
                      for r, n in sorted(counts.items()))
    present = {f.severity for f in result.findings}
    boxes = "".join(
        f'<label><input type="checkbox" name="f-sev" value="{s}" checked> {_e(severity_label(s))}</label>'
        for s in reversed(SEVERITIES) if s in present)
    return (f'<div class="filters" id="filters"><label>{_e(tr("规则", "rule"))} <select id="f-rule">'
            f'<option value="">{_e(tr("全部规则", "all rules"))}</option>{options}</select></label>{boxes}'
            f'<label>{_e(tr("搜索", "search"))} <input type="search" id="f-text" '
            f'placeholder="{_e(tr("页面、词语或链接", "page, word or link"))}"></label>'
            f'<span>{_e(tr("显示", "showing"))} <b id="f-count">{len(result.findings)}</b> '
            f'{_e(tr("条", "findings"))}</span></div>')


def source_label(f: Finding) -> str:
    """``file:line`` of the source a finding comes from ("" for pages zhuanti did not build)."""
    if not f.source:
        return ""
    return f"{f.source}:{f.source_line}" if f.source_line else f.source


def _page_section(page: str, findings: list[Finding], is_home: bool, extra: str = "") -> str:
    head = (f'<th>{_e(tr("源文件", "source"))}</th><th>{_e(tr("行", "line"))}</th><th>{_e(tr("级别", "severity"))}</th><th>{_e(tr("规则", "rule"))}</th>'
            f'<th>{_e(tr("说明", "message"))}</th><th>{_e(tr("目标", "target"))}</th>'
            f'<th>{_e(tr("上下文", "context"))}</th><th>{_e(tr("建议", "suggestion"))}</th>')
    rows = "".join(
        f'<tr data-rule="{_e(f.rule)}" data-severity="{_e(f.severity)}"><td class="src">{_e(source_label(f))}</td>'
        f'<td>{_e(f.line or "")}</td>'
        f'<td class="sev"><span class="sev-{_e(f.severity)}">{_e(severity_label(f.severity))}</span></td>'
        f'<td class="rule">{_e(f.rule)}<small>{_e(rule_title(f.rule))}</small></td><td>{_e(f.message)}</td>'
        f'<td class="tgt">{_e(f.target)}</td><td class="ctx">{highlight(f.context, f.target)}</td>'
        f"<td>{_e(f.suggestion)}</td></tr>"
        for f in findings)
    badge = f'<span class="home">{_e(tr("首页", "home page"))}</span>' if is_home else ""
    return (f'<section class="page" data-page="{_e(page)}"><h3>{_e(page_label(page))}{badge} '
            f'<small>（{len(findings)}）</small></h3>{extra}<table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")


# ---------------------------------------------------------------- HTML: browser screenshots
# The browser pass (--browser with --format html) takes JPEG screenshots in CSS pixels, at most
# 480 px wide; they are embedded as data: URLs so the report stays one self-contained file.


def _shot_figure(shot, caption: str) -> str:
    data = base64.b64encode(shot.jpeg).decode("ascii")
    wide = " wide" if shot.device.width > shot.device.height else ""
    outlined = tr("（红框：{t}）", " (outlined: {t})", t="、".join(shot.outlined[:3])) if shot.outlined else ""
    alt = tr("{p} 在 {d} 上的截图", "{p} on {d}", p=shot.page, d=shot.device.label)
    return (f'<figure class="shot{wide}" data-device="{_e(shot.device.key)}"><img src="data:image/jpeg;base64,{data}" '
            f'width="{shot.width}" height="{shot.height}" alt="{_e(alt)}" decoding="async">'
            f"<figcaption>{_e(caption)}{_e(outlined)}</figcaption></figure>")


def template_screenshots(shots: Sequence) -> str:
    """One row per template: its first page on every device."""
    by_template: dict[str, list] = defaultdict(list)
    for shot in shots:
        if shot.reason == "template":
            by_template[shot.template].append(shot)
    if not by_template:
        return ""
    rows = []
    order = ("home", "nav", "column", "detail", "record", "media", "site")  # a visitor's way in, then the rest
    for template, group in sorted(by_template.items(),
                                  key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0])):
        group.sort(key=lambda s: s.device.width)
        figures = "".join(_shot_figure(s, s.device.label) for s in group)
        rows.append(f'<div class="tpl-row" id="tpl-{_e(template)}" data-template="{_e(template)}"><h3>{_e(tr("模板", "template"))} '
                    f'{_e(template)} · {_e(page_label(group[0].page))}</h3><div class="shots tpl">{figures}</div></div>')
    return (f"<h2>{_e(tr('各模板在不同设备上的截图', 'Each template on each device'))}</h2>"
            f'<div class="card" id="screenshots">{"".join(rows)}</div>')


def page_screenshots(shots: Sequence, page: str) -> str:
    """The screenshots of one page with findings (the offending elements outlined in red); a page
    that is its template's example points to that row instead of repeating the pictures."""
    mine = sorted((s for s in shots if s.page == page and s.reason == "findings"), key=lambda s: s.device.width)
    example = next((s for s in shots if s.page == page and s.reason == "template" and s.outlined), None)
    link = ""
    if example:
        text = tr("截图（问题处已用红框标出）见模板 {t} 的截图", "screenshots (problems outlined) in the row of "
                  "template {t}", t=example.template)
        link = f'<p class="shots-link"><a href="#tpl-{_e(example.template)}">{_e(text)}</a></p>'
    if not mine:
        return link
    return link + '<div class="shots page">' + "".join(_shot_figure(s, s.device.label) for s in mine) + "</div>"


# (zh, en) names of the browser pass's own rules (a11y.* keep the family name "无障碍").
RULE_TITLES.update({
    "mobile.overflow": ("手机上横向滚动", "sideways scrolling"),
    "mobile.viewport": ("viewport 缺失或禁止缩放", "viewport missing or zoom locked"),
    "mobile.image-width": ("图片比屏幕宽", "image wider than the screen"),
    "mobile.font-size": ("文字过小", "text too small"),
    "mobile.tap-target": ("点击区域过小", "tap target too small"),
    "mobile.console-error": ("页面脚本出错", "script error"),
    "mobile.elder-font-size": ("适老化模式文字过小", "small text in the elderly-friendly mode"),
    "mobile.elder-floating": ("适老化模式有浮窗", "floating box in the elderly-friendly mode"),
    "mobile.elder-mode": ("未检查适老化模式", "elderly-friendly mode not checked"),
    "mobile.redirect": ("页面跳转", "page redirects"),
    "mobile.load-failed": ("页面无法在浏览器中打开", "page failed in the browser"),
    "mobile.pages-capped": ("浏览器检查未覆盖全部页面", "browser pass capped"),
})
RULE_TITLES.update({f"a11y.{rule}": (title, rule) for rule, title in AXE_TITLES_ZH.items()})
