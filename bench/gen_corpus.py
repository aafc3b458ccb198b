#!/usr/bin/env python3
# ruff: noqa: E702, E731, UP031
# Copied verbatim from the project's shared benchmark kit (shared/bench/gen_corpus.py, which has no
# licence header of its own; it was written for this project and ships under its MIT licence) so a
# clone can generate the corpus. Keep its output byte-identical to that copy: the peers and the
# figures in the README were measured on it.
"""Deterministic synthetic corpus for static-site-generator benchmarks.

Standard library only.  Emits the SAME Markdown bodies in the layout each
peer tool expects (--flavor), plus a minimal "just wrap the content" layout
template for that tool, so theme cost is comparable across tools.

  python3 gen_corpus.py --pages 1000 --out corpus/hugo-1000 --flavor hugo

Corpus shape (identical for every flavor):
  * ~20 topics (sections): topic-01 .. topic-20, each with an index page
    listing all of its pages; a home page listing the topics.
  * N pages page-00001 .. page-NNNNN, spread over the topics.
  * Each page: front matter (Chinese title, date, tags), 300-800 Chinese
    characters of body with headings, a list, a small table, 3-8 internal
    links (about 1% of them point to pages that do not exist), one image
    reference, 1-3 external links to https://example.gov.cn/...
  * 20 tiny PNG images under images/.
Internal links are page-relative ("../topic-03/page-00042.html"), so the
built output has the same URL layout for every tool:
  /index.html, /topic-XX/index.html, /topic-XX/page-NNNNN.html, /images/*.png

Flavor adapters (front matter / paths only; bodies are byte-identical except
mkdocs, whose internal links point at the .md sources as MkDocs requires):
  plain    OUT/{index.md, topic-XX/*.md, images/}           YAML front matter
  hugo     OUT/{config.toml, layouts/, content/, static/images/}
  jekyll   OUT/{_config.yml, _layouts/, index.md, topic-XX/, images/}
  pelican  OUT/{pelicanconf.py, theme/, content/}           Pelican "Key: value" metadata
  mkdocs   OUT/{mkdocs.yml, theme/, docs/}
  eleventy OUT/{eleventy.config.js, src/}
  zhuanti  OUT/{site_src/site.toml, topics/bench/{topic.toml, index.md, topic-XX/_index.md, images/}}
           links point at the .md sources (like mkdocs); the build maps them to page URLs
"""
import argparse
import datetime
import os
import random
import re
import struct
import zlib

TOPICS = [
    "交通运输", "生态环境", "城乡建设", "产业发展", "科技创新",
    "教育事业", "医疗卫生", "社会保障", "文化旅游", "农业农村",
    "能源保障", "水利建设", "数字政府", "营商环境", "应急管理",
    "自然资源", "对外开放", "人才发展", "养老服务", "市场监管",
]

DOC_TYPES = [
    "“十四五”规划", "实施方案", "行动计划", "指导意见", "专项规划",
    "工作要点", "三年行动方案", "中长期发展规划", "若干措施", "管理办法",
]

REGIONS = ["全市", "全省", "全区", "全县", "中心城区", "重点片区", "新区", "开发区"]

SUBJECTS = [
    "各级政府", "有关部门", "各区县人民政府", "市发展改革委", "市财政局",
    "相关单位", "重点企业", "各乡镇（街道）", "市直各部门", "行业主管部门",
    "社会各界", "基层组织",
]

ACTIONS = [
    "坚持以人民为中心的发展思想", "统筹推进区域协调发展", "加快构建现代化基础设施体系",
    "全面提升公共服务水平", "深入实施创新驱动发展战略", "持续深化重点领域改革",
    "着力补齐民生领域短板", "推动经济社会高质量发展", "健全完善体制机制",
    "加强规划实施监测评估", "强化要素保障和政策支持", "优化国土空间开发保护格局",
    "稳步推进新型城镇化建设", "大力发展数字经济", "扎实推进共同富裕",
    "切实筑牢安全发展底线", "积极稳妥推进碳达峰碳中和", "持续改善生态环境质量",
    "不断增强人民群众获得感", "加快建设现代产业体系", "提升基层治理能力",
    "完善多元投入保障机制", "推进政务服务标准化规范化便利化", "深化放管服改革",
]

OBJECTS = [
    "重大项目建设", "公共服务设施布局", "城乡融合发展", "产业链供应链稳定",
    "科技成果转化", "生态保护修复", "综合交通网络", "数字基础设施",
    "社会保障体系", "应急救援能力", "营商环境建设", "乡村振兴战略",
    "人才引进培养", "重点区域开发", "历史文化保护传承", "防灾减灾体系",
]

MODIFIERS = [
    "到2025年，", "“十四五”期间，", "力争用三年时间，", "按照统一部署，",
    "坚持问题导向，", "立足新发展阶段，", "围绕中心工作，", "在巩固现有成果基础上，",
    "", "", "",
]

CLOSERS = [
    "形成可复制可推广的经验做法", "确保各项任务落地见效", "为全面建设社会主义现代化奠定坚实基础",
    "切实增强规划的约束力和引导力", "推动各项目标任务如期完成", "实现质的有效提升和量的合理增长",
    "构建上下联动、协同推进的工作格局", "不断提高人民群众满意度",
]

HEADINGS = [
    ["一、总体要求", "二、主要任务", "三、重点工程", "四、保障措施"],
    ["一、发展基础", "二、指导思想", "三、发展目标", "四、实施保障"],
    ["一、背景与意义", "二、基本原则", "三、重点任务", "四、组织实施"],
    ["一、现状分析", "二、总体思路", "三、主要举措", "四、监督考核"],
]

INDICATORS = [
    "地区生产总值增速（%）", "城镇新增就业（万人）", "森林覆盖率（%）",
    "每千人口执业医师数（人）", "研发经费投入强度（%）", "城镇化率（%）",
    "PM2.5平均浓度（微克/立方米）", "高速公路通车里程（公里）", "5G基站数（万个）",
    "养老机构床位数（张）", "粮食综合生产能力（万吨）", "单位GDP能耗下降（%）",
]

TAGS = [
    "规划", "实施方案", "民生", "改革", "基础设施", "绿色发展", "数字化",
    "乡村振兴", "公共服务", "安全生产", "政策解读", "年度计划", "项目建设", "考核评估",
]

N_TOPICS = 20
N_IMAGES = 20
HAN = re.compile(r"[\u4e00-\u9fff]")


def han_len(s):
    return len(HAN.findall(s))


def tiny_png(r, g, b):
    """A valid 1x1 RGB PNG (stdlib only)."""
    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"\x00" + bytes((r, g, b))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Corpus:
    def __init__(self, n_pages, seed):
        self.n = n_pages
        self.rng = random.Random(seed)
        rng = self.rng
        # page id -> topic (1-based), deterministic
        self.topic_of = {}
        self.pages_in = {t: [] for t in range(1, N_TOPICS + 1)}
        for pid in range(1, n_pages + 1):
            t = rng.randrange(1, N_TOPICS + 1) if pid > N_TOPICS else pid
            self.topic_of[pid] = t
            self.pages_in[t].append(pid)
        base = datetime.date(2020, 1, 1)
        self.meta = {}
        for pid in range(1, n_pages + 1):
            t = self.topic_of[pid]
            title = "关于%s%s%s的%s（第%d号）" % (
                rng.choice(REGIONS), rng.choice(["推进", "加强", "促进", "优化", "深化"]),
                TOPICS[t - 1], rng.choice(DOC_TYPES), pid)
            date = base + datetime.timedelta(days=rng.randrange(0, 1800))
            tags = rng.sample(TAGS, rng.randint(2, 4))
            self.meta[pid] = (title, date.isoformat(), tags)

    @staticmethod
    def rel(pid, topic):
        return "../topic-%02d/page-%05d.html" % (topic, pid)

    def sentence(self, rng):
        return "%s%s%s，%s，%s。" % (rng.choice(MODIFIERS), rng.choice(SUBJECTS), rng.choice(ACTIONS),
                                  "着力加强" + rng.choice(OBJECTS), rng.choice(CLOSERS))

    def link(self, rng, self_pid):
        """One internal link (markdown); about 1% point to missing pages."""
        if rng.random() < 0.01:
            missing = self.n + 100000 + rng.randrange(0, 100000)
            t = rng.randrange(1, N_TOPICS + 1)
            return "[%s相关文件（已撤销）](%s)" % (TOPICS[t - 1], self.rel(missing, t))
        while True:
            other = rng.randrange(1, self.n + 1)
            if other != self_pid or self.n == 1:
                break
        return "[%s](%s)" % (self.meta[other][0], self.rel(other, self.topic_of[other]))

    def page_body(self, pid):
        # Per-page RNG so a page's text does not depend on generation order.
        rng = random.Random("%d-%d" % (self.rng_seed, pid))
        t = self.topic_of[pid]
        target = rng.randint(300, 800)
        n_links = rng.randint(3, 8)
        n_ext = rng.randint(1, 3)
        heads = rng.choice(HEADINGS)
        links = [self.link(rng, pid) for _ in range(n_links - 1)]
        links.append("[返回%s专题](../topic-%02d/index.html)" % (TOPICS[t - 1], t))
        rng.shuffle(links)
        ext = ["[%s](https://example.gov.cn/%s/%d/art_%d_%d.html)" % (
            rng.choice(["政策原文", "图解", "政策解读", "征求意见稿"]),
            rng.choice(["zwgk", "xxgk", "zcjd", "fgwj"]), rng.randint(2019, 2025),
            rng.randint(100, 999), rng.randint(1000, 99999)) for _ in range(n_ext)]

        # fixed elements first, then pad paragraphs until the han count target
        items = ["%s，%s。" % (rng.choice(ACTIONS), "重点推进" + rng.choice(OBJECTS))
                 for _ in range(rng.randint(3, 5))]
        rows = rng.sample(INDICATORS, rng.randint(3, 4))
        table = ["| 指标 | 基期值 | 目标值 | 属性 |", "| --- | --- | --- | --- |"]
        for ind in rows:
            v = rng.uniform(1, 200)
            table.append("| %s | %.1f | %.1f | %s |" % (ind, v, v * rng.uniform(1.02, 1.5),
                                                       rng.choice(["预期性", "约束性"])))
        img = "![%s示意图](../images/fig-%02d.png)" % (TOPICS[t - 1], rng.randint(1, N_IMAGES))

        paras = [[], [], [], []]
        fixed = "".join(items) + "".join(table) + "".join(heads) + "".join(links) + "".join(ext) + img
        count = han_len(fixed) + 4 * len(links)
        i = 0
        while count < target:
            s = self.sentence(rng)
            paras[i % 4].append(s)
            count += han_len(s)
            i += 1
        for p in paras:
            if not p:
                p.append(self.sentence(rng))
        # spread internal links: inline in paragraphs + a related-files list
        inline = links[: len(links) // 2]
        related = links[len(links) // 2:]
        for k, lk in enumerate(inline):
            paras[k % 4].append("详见%s。" % lk)
        paras[3].append("参阅%s。" % "、".join(ext))

        out = []
        out.append("## " + heads[0]); out.append(""); out.append("".join(paras[0])); out.append("")
        out.append("## " + heads[1]); out.append("")
        out.extend("- " + it for it in items); out.append("")
        out.append("".join(paras[1])); out.append("")
        out.append("## " + heads[2]); out.append("")
        out.extend(table); out.append("")
        out.append(img); out.append("")
        out.append("".join(paras[2])); out.append("")
        out.append("## " + heads[3]); out.append("")
        out.append("".join(paras[3])); out.append("")
        out.append("### 相关文件"); out.append("")
        out.extend("- " + lk for lk in related); out.append("")
        return "\n".join(out)

    def topic_body(self, t):
        lines = ["本专题汇集%s领域的规划、方案和政策文件，共%d篇。" % (TOPICS[t - 1], len(self.pages_in[t])),
                 "", "[返回首页](../index.html)", "", "## 文件列表", ""]
        for pid in self.pages_in[t]:
            lines.append("- [%s](page-%05d.html) %s" % (self.meta[pid][0], pid, self.meta[pid][1]))
        lines.append("")
        return "\n".join(lines)

    def home_body(self):
        lines = ["本站收录%d篇规划政策文件，分为%d个专题。" % (self.n, N_TOPICS), "", "## 专题", ""]
        for t in range(1, N_TOPICS + 1):
            lines.append("- [%s专题](topic-%02d/index.html)（%d篇）" % (TOPICS[t - 1], t, len(self.pages_in[t])))
        lines.append("")
        return "\n".join(lines)


# ---------------------------------------------------------------- flavors

TEMPLATE_HTML = ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
                 '<title>{T}</title>\n</head>\n<body>\n<main>\n<h1>{T}</h1>\n{C}\n</main>\n</body>\n</html>\n')

MD_LINK = re.compile(r"\]\((?!https?://)([^)\s]+)\.html\)")


def yaml_fm(title, date, tags, extra=""):
    tag_s = ", ".join('"%s"' % t for t in tags)
    return '---\ntitle: "%s"\ndate: %s\ntags: [%s]\n%s---\n\n' % (title, date, tag_s, extra)


def pelican_fm(title, date, tags, extra=""):
    return "Title: %s\nDate: %s\nTags: %s\n%s\n" % (title, date, ", ".join(tags), extra)


FLAVORS = {
    # flavor: (content root, topic-index filename, home filename, images dir, front-matter fn)
    "plain": ("", "index.md", "index.md", "images", yaml_fm),
    "hugo": ("content", "_index.md", "_index.md", "static/images", yaml_fm),
    "jekyll": ("", "index.md", "index.md", "images", yaml_fm),
    "pelican": ("content", "index.md", "index.md", "content/images", pelican_fm),
    "mkdocs": ("docs", "index.md", "index.md", "docs/images", yaml_fm),
    "eleventy": ("src", "index.md", "index.md", "src/images", yaml_fm),
    "zhuanti": ("topics/bench", "_index.md", "index.md", "topics/bench/images", yaml_fm),
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_scaffold(flavor, out):
    j = os.path.join
    if flavor == "hugo":
        write(j(out, "config.toml"), "\n".join([
            'baseURL = "/"', 'languageCode = "zh-cn"', 'title = "bench"',
            'uglyURLs = true', 'relativeURLs = false', 'hasCJKLanguage = true',
            # keep output comparable to the other tools: pages + section indexes + home only
            'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]',
            '']))
        tpl = TEMPLATE_HTML.format(T="{{ .Title }}", C="{{ .Content }}")
        write(j(out, "layouts/_default/single.html"), tpl)
        write(j(out, "layouts/_default/list.html"), tpl)
    elif flavor == "jekyll":
        write(j(out, "_config.yml"), "\n".join([
            "title: bench", "markdown: kramdown",
            "exclude: [gen_corpus.py]",
            "defaults:", "  - scope: {path: \"\"}", "    values: {layout: default}", ""]))
        write(j(out, "_layouts/default.html"),
              TEMPLATE_HTML.format(T="{{ page.title }}", C="{{ content }}"))
    elif flavor == "pelican":
        write(j(out, "pelicanconf.py"), "\n".join([
            "AUTHOR = 'bench'", "SITENAME = 'bench'", "SITEURL = ''", "PATH = 'content'",
            "TIMEZONE = 'Asia/Shanghai'", "DEFAULT_LANG = 'zh_cn'", "THEME = 'theme'",
            "ARTICLE_PATHS = ['.']", "PAGE_PATHS = []", "STATIC_PATHS = ['images']",
            "SLUGIFY_SOURCE = 'basename'",
            # category from the folder (USE_FOLDER_AS_CATEGORY needs CATEGORY_SAVE_AS set)
            "PATH_METADATA = r'(?P<category>[^/]+)/[^/]+\\.md'", "ARTICLE_TRANSLATION_ID = None",
            "ARTICLE_URL = '{category}/{slug}.html'", "ARTICLE_SAVE_AS = '{category}/{slug}.html'",
            # keep output comparable: pages + topic indexes + home only
            "DIRECT_TEMPLATES = []",
            "CATEGORY_SAVE_AS = ''", "TAG_SAVE_AS = ''", "AUTHOR_SAVE_AS = ''",
            "CATEGORIES_SAVE_AS = ''", "TAGS_SAVE_AS = ''", "AUTHORS_SAVE_AS = ''",
            "ARCHIVES_SAVE_AS = ''",
            "FEED_ALL_ATOM = None", "CATEGORY_FEED_ATOM = None", "TRANSLATION_FEED_ATOM = None",
            "AUTHOR_FEED_ATOM = None", "AUTHOR_FEED_RSS = None",
            "DEFAULT_PAGINATION = False", "RELATIVE_URLS = False", ""]))
        tpl = TEMPLATE_HTML.format(T="{{ article.title }}", C="{{ article.content }}")
        write(j(out, "theme/templates/article.html"), tpl)
        write(j(out, "theme/templates/page.html"),
              TEMPLATE_HTML.format(T="{{ page.title }}", C="{{ page.content }}"))
        write(j(out, "theme/templates/index.html"), TEMPLATE_HTML.format(T="{{ SITENAME }}", C=""))
    elif flavor == "mkdocs":
        write(j(out, "mkdocs.yml"), "\n".join([
            "site_name: bench", "docs_dir: docs", "site_dir: site", "use_directory_urls: false",
            "theme:", "  name: null", "  custom_dir: theme", "plugins: []", ""]))
        write(j(out, "theme/main.html"),
              TEMPLATE_HTML.format(T="{{ page.title }}", C="{{ page.content }}"))
    elif flavor == "eleventy":
        write(j(out, "eleventy.config.js"), "\n".join([
            "module.exports = function (eleventyConfig) {",
            '  eleventyConfig.addPassthroughCopy({ "src/images": "images" });',
            '  eleventyConfig.addGlobalData("layout", "layout.liquid");',
            '  eleventyConfig.addGlobalData("permalink", "{{ page.filePathStem }}.html");',
            '  return { dir: { input: "src", output: "_site", includes: "_includes" } };',
            "};", ""]))
        write(j(out, "src/_includes/layout.liquid"),
              TEMPLATE_HTML.format(T="{{ title }}", C="{{ content }}"))
    elif flavor == "zhuanti":
        write(j(out, "site_src/site.toml"), "\n".join([
            'title = "规划政策文件库"', 'base_url = "https://www.example.gov.cn/"', 'language = "zh-CN"',
            "", "[identity]", 'site_code = "1100000088"', 'icp = "京ICP备00000000号"',
            'police_record = "京公网安备 11000000000000号"', 'organizer = "示例市规划和自然资源委员会"', ""]))
        write(j(out, "topics/bench/topic.toml"), 'title = "规划政策文件库"\nsummary = "基准测试语料"\n')
    elif flavor == "plain":
        write(j(out, "_templates/page.html"),
              TEMPLATE_HTML.format(T="{{ title }}", C="{{ content }}"))


def generate(n_pages, out, seed, flavor):
    c = Corpus(n_pages, seed)
    c.rng_seed = seed
    root, topic_index, home_name, img_dir, fm = FLAVORS[flavor]
    j = os.path.join
    base = j(out, root) if root else out
    adapt = (lambda s: MD_LINK.sub(r"](\1.md)", s)) if flavor == "mkdocs" else (lambda s: s)
    if flavor == "zhuanti":  # a column's page is its _index.md
        adapt = lambda s: MD_LINK.sub(r"](\1.md)", re.sub(r"(topic-\d\d)/index\.html\)", r"\1/_index.md)", s))
    write_scaffold(flavor, out)
    for pid in range(1, n_pages + 1):
        title, date, tags = c.meta[pid]
        t = c.topic_of[pid]
        write(j(base, "topic-%02d" % t, "page-%05d.md" % pid),
              fm(title, date, tags) + adapt(c.page_body(pid)))
    for t in range(1, N_TOPICS + 1):
        extra = ""
        if flavor == "hugo":  # uglyURLs would otherwise emit /topic-XX.html
            extra = 'url: "/topic-%02d/index.html"\n' % t
        write(j(base, "topic-%02d" % t, topic_index),
              fm("%s专题" % TOPICS[t - 1], "2024-01-01", [TOPICS[t - 1]], extra) + adapt(c.topic_body(t)))
    extra = ""
    if flavor == "pelican":
        extra = "Save_as: index.html\nUrl: index.html\n"
    write(j(base, home_name), fm("规划政策文件库", "2024-01-01", ["首页"], extra) + adapt(c.home_body()))
    os.makedirs(j(out, img_dir), exist_ok=True)
    for k in range(1, N_IMAGES + 1):
        with open(j(out, img_dir, "fig-%02d.png" % k), "wb") as f:
            f.write(tiny_png((k * 37) % 256, (k * 91) % 256, (k * 53) % 256))
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--flavor", choices=sorted(FLAVORS), default="plain")
    a = ap.parse_args()
    if a.pages < 1:
        ap.error("--pages must be >= 1")
    generate(a.pages, a.out, a.seed, a.flavor)


if __name__ == "__main__":
    main()
