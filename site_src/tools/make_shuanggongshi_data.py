"""Generate the fictional 双公示 (行政许可、行政处罚) data files of the sample site's `shuanggongshi` topic.

Deterministic: the same output bytes on every run. Run from the repository root:

    .venv/bin/python site_src/tools/make_shuanggongshi_data.py

Writes three files, each in the form staff actually hand over:
- xingzheng-shenpi-jieguo/shenpi-jieguo.csv   行政审批结果, CSV as UTF-8 with BOM (Excel "CSV UTF-8")
- xingzheng-shenpi-qingdan/shenpi-qingdan.xlsx 行政审批清单, XLSX, sheet "审批清单", real date cells
- xingzheng-chufa/xingzheng-chufa.csv          行政处罚清单, CSV in GB18030 (Excel "CSV" on Chinese Windows)

Every name, number and credit code is invented. Credit codes follow GB 32100-2015 (18 characters with
a valid organisation-code check digit and a valid final check digit) but belong to nobody.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

ROOT = Path(__file__).resolve().parents[2]
TOPIC = ROOT / "topics" / "shuanggongshi"
TODAY = dt.date(2026, 11, 24)  # the sample site's "today"; no record is dated after it
FIXED_ZIP_TIME = (2026, 11, 20, 9, 0, 0)

AGENCY = "示例市规划和自然资源委员会"

# Fictional districts of 示例市 with fictional 6-digit region codes (not real administrative codes).
DISTRICTS = [
    ("东湖区", "110901", "东"),
    ("西岭区", "110902", "西"),
    ("南川区", "110903", "南"),
    ("北塘区", "110904", "北"),
    ("青河区", "110905", "青"),
    ("临江区", "110906", "临"),
]
ROADS = ["青石路", "望山街", "滨河东路", "春晖路", "文汇街", "兴业大街", "丰泽路", "云岭街", "翠湖南路",
         "新华北路", "启明路", "长乐街", "科园路", "金沙路", "杏林街", "朝晖路"]
VILLAGES = ["东庄村", "杨树屯村", "石桥村", "柳河村", "前营村", "后沙峪村", "西坡村", "大王庄村", "枣林村",
            "北辛庄村"]
BRANDS = ["锦程", "恒泰", "瑞丰", "嘉和", "宏远", "泰和", "盛达", "中鼎", "宇辰", "博远", "汇通", "华景",
          "安居", "新城", "润泽", "同创", "鸿基", "兴业", "康达", "合信"]
COMPANY_KINDS = ["置业有限公司", "房地产开发有限公司", "建设发展有限公司", "城市更新有限公司",
                 "投资建设有限公司", "实业有限公司"]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


# ---------------------------------------------------------------- credit codes

def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def uscc(prefix: str, region: str, body: str) -> str:
    """Unified social credit code: 2-char authority/type + 6-digit region + 9-char org code + check."""
    first17 = prefix + region + body + org_code_check(body)
    assert len(first17) == 17 and all(ch in USCC_CHARS for ch in first17), first17
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(ch not in USCC_CHARS for ch in code):
        return False
    if org_code_check(code[8:16]) != code[16]:
        return False
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31] == code[17]


class Registry:
    """Fictional legal persons, each with a stable credit code."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def _body(self, lead: str) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            body = lead + "".join(self.rng.choice(alphabet) for _ in range(8 - len(lead)))
            if body not in self.seen:
                self.seen.add(body)
                return body

    def company(self, region: str) -> str:
        return uscc("91", region, self._body("MA0"))

    def public_institution(self, region: str) -> str:
        return uscc("12", region, self._body("4"))

    def village_committee(self, region: str) -> str:
        return uscc("54", region, self._body("MF"))


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(["某某", "某"])


# ---------------------------------------------------------------- dates

# Public holidays (approximate 国务院办公厅 schedules); no decision is dated on them.
HOLIDAYS = [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
            ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07")]


def is_holiday(d: dt.date) -> bool:
    return any(dt.date.fromisoformat(a) <= d <= dt.date.fromisoformat(b) for a, b in HOLIDAYS)


def workdays(rng: random.Random, start: dt.date, end: dt.date, n: int) -> list[dt.date]:
    days = [start + dt.timedelta(d) for d in range((end - start).days + 1)]
    days = [d for d in days if d.weekday() < 5 and not is_holiday(d)]
    return sorted(rng.choice(days) for _ in range(n))


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def money(value: float) -> str:
    """万元 with up to four decimals, as the national 双公示 template prints it."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------- 行政审批结果 (CSV, UTF-8 with BOM)

PERMIT_FIELDS = ["许可文书编号", "项目名称", "许可证书名称", "许可类别", "许可内容", "行政相对人名称",
                 "行政相对人类别", "统一社会信用代码", "法定代表人", "建设位置", "许可决定日期", "有效期至",
                 "许可机关"]

# (名称模板, 用地性质, 建筑规模范围（平方米）, 地上层数范围)
BUILDINGS = [
    ("{d}{r}{p}地块商品住宅项目", "二类居住用地", (30000, 160000), (6, 18)),
    ("{d}{r}{p}地块保障性租赁住房项目", "二类居住用地", (20000, 90000), (9, 18)),
    ("{d}{r}{p}地块共有产权住房项目", "二类居住用地", (25000, 120000), (9, 18)),
    ("{d}{r2}配套小学建设工程", "基础教育用地", (9000, 18000), (3, 4)),
    ("{d}{r}社区卫生服务中心工程", "医疗卫生用地", (3000, 8000), (3, 5)),
    ("{d}{r}{p}地块商业办公项目", "商务用地", (20000, 110000), (8, 24)),
    ("{d}科技园{p}地块研发楼项目", "一类工业用地", (15000, 60000), (5, 12)),
    ("{d}{r}老旧小区综合整治配套用房工程", "二类居住用地", (800, 3500), (2, 3)),
    ("{d}{r}公共停车场工程", "社会停车场用地", (6000, 30000), (3, 6)),
    ("{d}{r2}文化活动中心工程", "文化设施用地", (4000, 15000), (3, 5)),
]


def project_for(rng: random.Random, kind: str, district: str) -> tuple[str, str, str, int, int]:
    """(项目名称, 建设位置, 用地性质, 建筑规模, 地上层数) of an invented project."""
    road, road2 = rng.sample(ROADS, 2)
    plot = f"{rng.choice('ABCDEF')}-{rng.randint(1, 24):02d}"
    where = f"{district}{road}与{road2}交叉口{rng.choice(['东北角', '西北角', '东南角', '西南角'])}"
    span = f"{district}{road}（{road2}至{rng.choice([x for x in ROADS if x not in (road, road2)])}段）"
    if kind == "road":
        return f"{district}{road}道路工程（{rng.choice(['一期', '二期', '改造'])}）", span, "城市道路用地", 0, 0
    if kind == "pipe":
        pipe = rng.choice(["给水管线", "再生水管线", "雨污水管线", "燃气管线", "热力管线", "电力管廊"])
        return f"{district}{road}{pipe}工程", span, "城市道路用地", 0, 0
    name, use, (lo, hi), (f_lo, f_hi) = rng.choice(BUILDINGS)
    return name.format(d=district, r=road, r2=road2, p=plot), where, use, rng.randint(lo, hi), rng.randint(f_lo, f_hi)


def permit_records(rng: random.Random, reg: Registry) -> list[dict]:
    # (证书名称, 文号模板, 许可类别, 有效期（年，0 为长期）, 项目类别, 权重)
    kinds = [
        ("建设项目用地预审与选址意见书", "用字第{region}{year}{serial:05d}号", "普通", 3, "building", 12),
        ("建设用地规划许可证", "地字第{region}{year}{serial:05d}号", "普通", 0, "building", 14),
        ("建设工程规划许可证", "建字第{region}{year}{serial:05d}号", "普通", 2, "building", 26),
        ("建设工程规划许可证", "建字第{region}{year}{serial:05d}号", "普通", 2, "road", 6),
        ("建设工程规划许可证", "建字第{region}{year}{serial:05d}号", "普通", 2, "pipe", 6),
        ("乡村建设规划许可证", "乡字第{region}{year}{serial:05d}号", "普通", 2, "village", 10),
        ("临时建设工程规划许可证", "临建字第{region}{year}{serial:05d}号", "普通", 2, "temporary", 6),
        ("建设工程规划核验意见", "规核字〔{year}〕第{serial:05d}号", "其他", 0, "building", 8),
        ("临时用地批准书", "示规自临用字〔{year}〕第{serial:05d}号", "普通", 2, "temporary-land", 5),
        ("测绘资质证书", "乙测资字{region4}{serial:05d}", "认可", 5, "survey", 5),
        ("永久性测量标志拆迁批准书", "示规自测标字〔{year}〕第{serial:05d}号", "普通", 1, "mark", 3),
        ("基础测绘成果提供使用审批意见", "示规自测成字〔{year}〕第{serial:05d}号", "普通", 1, "data", 4),
    ]
    weights = [k[-1] for k in kinds]
    n = 96
    dates = workdays(rng, dt.date(2025, 1, 6), dt.date(2026, 10, 23), n - 10)
    dates += workdays(rng, dt.date(2026, 10, 26), dt.date(2026, 11, 20), 10)  # the latest month
    records = []
    for serial, decided in enumerate(dates, start=101):
        cert, number, category, years, scope, _ = rng.choices(kinds, weights)[0]
        district, region, _short = rng.choice(DISTRICTS)
        brand = rng.choice(BRANDS)
        holder_kind = "法人及非法人组织"
        legal_rep = person(rng)
        if scope == "village":
            village = rng.choice(VILLAGES)
            if rng.random() < 0.5:
                holder, code, holder_kind, legal_rep = person(rng), "", "自然人", ""
                project = f"{district}{village}村民住宅翻建"
                content = (f"同意在{district}{village}宅基地范围内翻建村民住宅，建筑面积{rng.randint(160, 260)}平方米，"
                           f"地上{rng.choice(['一', '二'])}层")
            else:
                holder = f"示例市{district}{village}村民委员会"
                code = reg.village_committee(region)
                project = f"{district}{village}{rng.choice(['村民活动中心', '养老服务驿站', '公共卫生间', '便民服务站'])}工程"
                content = f"建设规模{rng.randint(180, 900)}平方米，地上{rng.choice(['一', '二'])}层，用于村庄公共服务"
            where = f"{district}{village}"
        elif scope == "survey":
            holder = f"示例市{brand}测绘地理信息有限公司"
            code = reg.company(region)
            action = rng.choice(["新申请", "延续", "变更"])
            project = f"{holder}乙级测绘资质{action}"
            specialties = "、".join(rng.sample(["工程测量", "界线与不动产测绘", "摄影测量与遥感", "地理信息系统工程"], 2))
            content = {"新申请": f"准予取得乙级测绘资质，专业类别：{specialties}",
                       "延续": f"准予延续乙级测绘资质，专业类别：{specialties}",
                       "变更": f"准予变更测绘资质证书载明的单位名称，资质等级和专业类别（{specialties}）不变"}[action]
            where = f"{district}{rng.choice(ROADS)}{rng.randint(1, 199)}号"
        elif scope == "mark":
            holder = f"示例市{brand}市政工程有限公司"
            code = reg.company(region)
            point = f"{rng.choice(['Ⅱ', 'Ⅲ', 'Ⅳ'])}等水准点{rng.randint(10, 99)}{rng.choice('ABCDE')}"
            project = f"{district}{rng.choice(ROADS)}改造工程涉及永久性测量标志拆迁"
            content = f"同意拆迁{point}，由申请人承担迁建费用并按要求重建"
            where = f"{district}{rng.choice(ROADS)}"
        elif scope == "data":
            holder = f"示例市{brand}规划设计研究院有限公司"
            code = reg.company(region)
            project = f"{district}{rng.choice(ROADS)}片区规划编制使用基础测绘成果"
            content = f"同意提供1∶{rng.choice(['500', '2000'])}比例尺地形图{rng.randint(6, 80)}幅，限于本项目使用，不得向第三方提供"
            where = f"{district}"
        elif scope == "temporary":
            holder = f"示例市{brand}建设发展有限公司"
            code = reg.company(region)
            project = f"{district}{rng.choice(ROADS)}项目施工临时用房"
            content = f"临时建设规模{rng.randint(300, 2400)}平方米，地上二层，使用期限不超过二年，期满自行拆除"
            where = f"{district}{rng.choice(ROADS)}东侧"
        elif scope == "temporary-land":
            holder = f"示例市{brand}市政工程有限公司"
            code = reg.company(region)
            project = f"{district}{rng.choice(ROADS)}管线工程施工临时用地"
            content = f"批准临时使用土地{rng.randint(2, 45) / 10:.1f}公顷，用途为施工场地，期满后恢复土地原状"
            where = f"{district}{rng.choice(VILLAGES)}"
        else:
            project, where, use, area, floors = project_for(rng, scope, district)
            if any(w in project for w in ("小学", "卫生服务中心", "文化活动中心")):
                holder = f"示例市{district}{rng.choice(['教育委员会', '卫生健康委员会', '文化和旅游局'])}" \
                    if rng.random() < 0.3 else f"示例市{district}{brand}代建管理中心"
                code = reg.public_institution(region)
            else:
                holder = f"示例市{brand}{rng.choice(COMPANY_KINDS)}"
                code = reg.company(region)
            site_area = int(area / rng.uniform(1.6, 2.8)) if area else rng.randint(8000, 60000)
            if cert == "建设项目用地预审与选址意见书":
                content = f"同意项目选址，拟用地面积{site_area / 10000:.2f}公顷，用地性质为{use}"
            elif cert == "建设用地规划许可证":
                content = f"用地面积{site_area}平方米，用地性质为{use}，容积率不大于{rng.choice(['1.8', '2.2', '2.5', '2.8', '3.0'])}"
            elif cert == "建设工程规划核验意见":
                content = f"经核验，建设工程符合建设工程规划许可证及附件、附图要求，核验建筑面积{area}平方米"
            elif scope == "road":
                content = f"道路全长{rng.randint(400, 3800)}米，红线宽度{rng.choice([20, 30, 40, 50])}米，含道路、交通设施及绿化工程"
            elif scope == "pipe":
                content = f"管线全长{rng.randint(300, 5200)}米，管径DN{rng.choice([300, 400, 600, 800, 1000])}，采用{rng.choice(['明挖', '顶管', '定向钻'])}方式敷设"
            else:
                above = int(area * rng.uniform(0.68, 0.8))
                content = (f"建设规模{area}平方米，其中地上{above}平方米、地下{area - above}平方米，"
                           f"建筑层数地上{floors}层、地下{rng.randint(1, 3)}层")
        expires = dt.date(2099, 12, 31) if years == 0 else add_years(decided, years) - dt.timedelta(days=1)
        records.append({
            "许可文书编号": number.format(region=region, region4=region[:4], year=decided.year, serial=serial),
            "项目名称": project,
            "许可证书名称": cert,
            "许可类别": category,
            "许可内容": content,
            "行政相对人名称": holder,
            "行政相对人类别": holder_kind,
            "统一社会信用代码": code,
            "法定代表人": legal_rep,
            "建设位置": where,
            "许可决定日期": decided.isoformat(),
            "有效期至": expires.isoformat(),
            "许可机关": AGENCY,
        })
    records.reverse()  # newest first, as the public list shows them
    return records


# ---------------------------------------------------------------- 行政处罚清单 (CSV, GB18030)

PENALTY_FIELDS = ["处罚决定书文号", "案件名称", "行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人",
                  "违法行为类型", "处罚事由", "处罚依据", "处罚类别", "处罚结果", "罚款金额（万元）",
                  "没收违法所得金额（万元）", "处罚决定日期", "处罚机关"]

LAW_PLAN = "《中华人民共和国城乡规划法》"
LAW_LAND = "《中华人民共和国土地管理法》"
REG_LAND = "《中华人民共和国土地管理法实施条例》"
LAW_SURVEY = "《中华人民共和国测绘法》"


def penalty_records(rng: random.Random, reg: Registry) -> list[dict]:
    n = 84
    dates = workdays(rng, dt.date(2025, 12, 1), dt.date(2026, 10, 23), n - 8)
    dates += workdays(rng, dt.date(2026, 10, 26), dt.date(2026, 11, 20), 8)
    records = []
    for serial, decided in enumerate(dates, start=11):
        district, region, short = rng.choice(DISTRICTS)
        road = rng.choice(ROADS)
        brand = rng.choice(BRANDS)
        kind = rng.choices(["no-permit", "off-permit", "temp", "temp-overdue", "late-docs", "land", "farmland",
                            "transfer", "survey"], [18, 14, 8, 6, 6, 14, 6, 4, 8])[0]
        individual = kind in ("temp", "temp-overdue", "land") and rng.random() < 0.3
        if individual:
            holder, holder_kind, code, rep = person(rng), "自然人", "", ""
        else:
            kinds = {"survey": "测绘技术有限公司", "farmland": "建材有限公司", "transfer": "实业有限公司"}
            holder = f"示例市{brand}{kinds.get(kind, rng.choice(COMPANY_KINDS))}"
            holder_kind, code, rep = "法人及非法人组织", reg.company(region), person(rng)
        fine = 0.0
        confiscated = 0.0
        if kind in ("no-permit", "off-permit"):
            cost = rng.randint(40, 2600) * 1000  # 元
            rate = rng.choice([5, 6, 7, 8, 10])
            fine = cost * rate / 100 / 10000
            area = rng.randint(60, 3200)
            if kind == "no-permit":
                kind_name = "未取得建设工程规划许可证进行建设"
                facts = f"在{district}{road}未取得建设工程规划许可证建设建筑物，建筑面积{area}平方米"
            else:
                kind_name = "未按照建设工程规划许可证的规定进行建设"
                facts = f"在{district}{road}项目中未按照建设工程规划许可证的规定进行建设，超出许可建筑面积{area}平方米"
            basis = f"{LAW_PLAN}第六十四条"
            category = "罚款"
            result = f"责令限期改正，处建设工程造价{cost / 10000:g}万元百分之{'五六七八十'[[5, 6, 7, 8, 10].index(rate)]}的罚款"
        elif kind in ("temp", "temp-overdue"):
            cost = rng.randint(5, 180) * 1000
            ratio = rng.choice([0.3, 0.5, 0.8, 1.0])
            fine = cost * ratio / 10000
            area = rng.randint(30, 900)
            if kind == "temp":
                kind_name = "未经批准进行临时建设"
                facts = f"未经批准在{district}{road}进行临时建设，建筑面积{area}平方米"
            else:
                kind_name = "临时建筑物超过批准期限不拆除"
                facts = f"在{district}{road}建设的临时建筑物超过批准期限未拆除，建筑面积{area}平方米"
            basis = f"{LAW_PLAN}第六十六条"
            category = "罚款"
            ratio_text = {0.3: "百分之三十", 0.5: "百分之五十", 0.8: "百分之八十", 1.0: "一倍"}[ratio]
            result = f"责令限期拆除，并处临时建设工程造价{cost / 10000:g}万元{ratio_text}的罚款"
        elif kind == "late-docs":
            fine = rng.choice([1, 1.5, 2, 3, 5])
            kind_name = "未按期报送竣工验收资料"
            facts = f"{district}{road}项目竣工验收后六个月内未向城乡规划主管部门报送有关竣工验收资料，经责令限期补报后逾期仍未补报"
            basis = f"{LAW_PLAN}第六十七条"
            category = "罚款"
            result = f"处罚款{fine:g}万元"
        elif kind == "land":
            area = round(rng.uniform(80, 4800), 1)
            per_m2 = rng.choice([100, 150, 200, 300, 500])
            fine = area * per_m2 / 10000
            kind_name = "非法占用土地"
            facts = f"未经批准占用{district}{rng.choice(VILLAGES)}集体土地{area:g}平方米建设{rng.choice(['厂房', '库房', '停车场', '经营用房'])}"
            basis = f"{LAW_LAND}第七十七条第一款、{REG_LAND}第五十七条"
            if rng.random() < 0.5:
                category = "罚款"
                result = f"责令退还非法占用的土地，限期拆除在非法占用的土地上新建的建筑物和其他设施，恢复土地原状，并处每平方米{per_m2}元的罚款"
            else:
                category = "没收非法财物;罚款"
                result = f"责令退还非法占用的土地，没收在非法占用的土地上新建的建筑物和其他设施，并处每平方米{per_m2}元的罚款"
        elif kind == "farmland":
            area = round(rng.uniform(300, 6000), 1)
            fee = 26  # 元/平方米，示例耕地开垦费标准
            times = rng.choice([5, 6, 8, 10])
            fine = area * fee * times / 10000
            kind_name = "破坏耕地种植条件"
            facts = f"在{district}{rng.choice(VILLAGES)}耕地上{rng.choice(['挖砂', '取土', '堆放建筑材料'])}，破坏耕地{area:g}平方米"
            basis = f"{LAW_LAND}第七十五条、{REG_LAND}第五十六条"
            category = "罚款"
            result = f"责令限期改正，恢复种植条件，并处耕地开垦费{'五六七八九十'[times - 5]}倍的罚款"
        elif kind == "transfer":
            income = rng.randint(8, 120) * 1000
            confiscated = income / 10000
            share = rng.choice([10, 20, 30])
            fine = income * share / 100 / 10000
            kind_name = "非法转让土地"
            facts = f"以出租方式非法转让{district}{rng.choice(VILLAGES)}集体土地使用权用于非农业建设，违法所得{income / 10000:g}万元"
            basis = f"{LAW_LAND}第七十四条、{REG_LAND}第五十四条"
            category = "没收违法所得;罚款"
            result = f"没收违法所得，并处违法所得百分之{ {10: '十', 20: '二十', 30: '三十'}[share]}的罚款"
        else:  # survey
            reward = rng.randint(3, 60) * 1000
            times = rng.choice([1, 1.5, 2])
            income = reward * rng.choice([0.3, 0.5])
            fine = reward * times / 10000
            confiscated = income / 10000
            kind_name = "未取得测绘资质证书擅自从事测绘活动"
            facts = f"未取得测绘资质证书，承接{district}{road}项目{rng.choice(['地形图测绘', '房产测绘', '工程测量'])}，测绘约定报酬{reward / 10000:g}万元"
            basis = f"{LAW_SURVEY}第五十五条"
            category = "没收违法所得;罚款"
            result = f"责令停止违法行为，没收违法所得和测绘成果，并处测绘约定报酬{ {1: '一', 1.5: '一点五', 2: '二'}[times]}倍的罚款"
        case = f"{holder}{kind_name}案"
        records.append({
            "处罚决定书文号": f"示规自（{short}）罚字〔{decided.year}〕第{serial:04d}号",
            "案件名称": case,
            "行政相对人名称": holder,
            "行政相对人类别": holder_kind,
            "统一社会信用代码": code,
            "法定代表人": rep,
            "违法行为类型": kind_name,
            "处罚事由": facts,
            "处罚依据": basis,
            "处罚类别": category,
            "处罚结果": result,
            "罚款金额（万元）": money(fine),
            "没收违法所得金额（万元）": money(confiscated),
            "处罚决定日期": decided.isoformat(),
            "处罚机关": f"{AGENCY}{district[:-1]}分局",
        })
    records.reverse()
    return records


# ---------------------------------------------------------------- 行政审批清单 (XLSX)

CATALOG_FIELDS = ["事项编码", "事项名称", "主项名称", "事项类型", "设定依据", "实施主体", "承办机构",
                  "法定办结时限（工作日）", "承诺办结时限（工作日）", "是否收费", "办理形式", "到现场次数",
                  "咨询电话", "更新日期"]

# (主项, [子项...], 设定依据, 承办机构)
CATALOG = [
    ("建设项目用地预审与选址意见书核发", ["新申请", "变更", "延续"],
     f"{LAW_PLAN}第三十六条；{LAW_LAND}第五十二条", "用地预审和选址处"),
    ("建设用地规划许可证核发", ["划拨方式", "出让方式", "变更"], f"{LAW_PLAN}第三十七条、第三十八条", "建设用地规划处"),
    ("建设工程规划许可证核发", ["房屋建筑工程", "市政交通工程", "市政管线工程", "变更", "延期"],
     f"{LAW_PLAN}第四十条、第四十三条", "建设工程规划处"),
    ("乡村建设规划许可证核发", ["乡镇企业、乡村公共设施和公益事业建设", "农村村民住宅建设"],
     f"{LAW_PLAN}第四十一条", "村镇规划处"),
    ("临时建设工程规划许可", ["新申请", "延期"], f"{LAW_PLAN}第四十四条", "建设工程规划处"),
    ("建设工程规划核验", ["房屋建筑工程", "市政工程"], f"{LAW_PLAN}第四十五条", "建设工程规划处"),
    ("农用地转用审批", [], f"{LAW_LAND}第四十四条", "耕地保护监督处"),
    ("土地征收审批", [], f"{LAW_LAND}第四十六条", "耕地保护监督处"),
    ("临时用地审批", ["新申请", "延期"], f"{LAW_LAND}第五十七条", "土地利用管理处"),
    ("国有建设用地使用权划拨批准", [], f"{LAW_LAND}第五十四条", "土地利用管理处"),
    ("建设用地改变用途审核", [], f"{LAW_LAND}第五十六条", "土地利用管理处"),
    ("乡（镇）村企业使用集体建设用地审批", [], f"{LAW_LAND}第六十条", "土地利用管理处"),
    ("乡（镇）村公共设施、公益事业使用集体建设用地审批", [], f"{LAW_LAND}第六十一条", "土地利用管理处"),
    ("开发未确定使用权的国有荒山、荒地、荒滩从事生产审批", [], f"{LAW_LAND}第四十一条", "土地利用管理处"),
    ("建设项目压覆重要矿产资源审批", [], "《中华人民共和国矿产资源法》", "矿产资源管理处"),
    ("采矿权登记", ["新立", "延续", "变更", "注销"], "《中华人民共和国矿产资源法》；《矿产资源开采登记管理办法》",
     "矿产资源管理处"),
    ("探矿权登记", ["新立", "延续", "变更", "保留", "注销"],
     "《中华人民共和国矿产资源法》；《矿产资源勘查区块登记管理办法》", "矿产资源管理处"),
    ("测绘资质审批", ["乙级新申请", "乙级延续", "乙级变更"], f"{LAW_SURVEY}第二十七条", "测绘地理信息管理处"),
    ("法人或者其他组织需要利用属于国家秘密的基础测绘成果审批", [], "《中华人民共和国测绘成果管理条例》",
     "测绘地理信息管理处"),
    ("建立相对独立的平面坐标系统审批", [], LAW_SURVEY, "测绘地理信息管理处"),
    ("拆迁、迁移永久性测量标志审批", [], "《中华人民共和国测量标志保护条例》", "测绘地理信息管理处"),
    ("地图审核", ["公开地图", "地方性地图"], "《地图管理条例》", "测绘地理信息管理处"),
    ("古生物化石发掘审批", [], "《古生物化石保护条例》", "地质勘查管理处"),
]


def catalog_records(rng: random.Random) -> list[dict]:
    records = []
    update_days = [dt.date(2026, 3, 16), dt.date(2026, 6, 22), dt.date(2026, 10, 15)]
    offices = sorted({c[3] for c in CATALOG})
    phones = {office: f"010-0000{6101 + i * 11}" for i, office in enumerate(offices)}
    for group, (main, subs, basis, office) in enumerate(CATALOG, start=1):
        updated = rng.choice(update_days)
        for i, sub in enumerate(subs or [""], start=1):
            legal = 20
            if main in ("土地征收审批", "农用地转用审批"):
                legal = 30
            promise = rng.choice([5, 7, 8, 10, 12, 15]) if legal == 20 else 20
            online = rng.choices(["全程网办", "网上申报、窗口领证", "窗口办理"], [6, 3, 1])[0]
            records.append({
                "事项编码": f"GHZY-XK-{group:03d}-{i:02d}" if subs else f"GHZY-XK-{group:03d}-00",
                "事项名称": f"{main}（{sub}）" if sub else main,
                "主项名称": main,
                "事项类型": "行政许可",
                "设定依据": basis,
                "实施主体": AGENCY,
                "承办机构": office,
                "法定办结时限（工作日）": legal,
                "承诺办结时限（工作日）": promise,
                "是否收费": "否",
                "办理形式": online,
                "到现场次数": 0 if online == "全程网办" else 1,
                "咨询电话": phones[office],
                "更新日期": updated,
            })
    return records


# ---------------------------------------------------------------- writers

def write_csv(path: Path, fields: list[str], records: list[dict], encoding: str) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\r\n")  # Excel writes CRLF
    writer.writeheader()
    writer.writerows(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, sheet: str, fields: list[str], records: list[dict]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(fields)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for rec in records:
        ws.append([rec[f] for f in fields])
    date_col = fields.index("更新日期") + 1
    for row in ws.iter_rows(min_row=2, min_col=date_col, max_col=date_col):
        row[0].number_format = "yyyy-mm-dd"
    widths = {"事项编码": 18, "事项名称": 44, "主项名称": 36, "设定依据": 48, "实施主体": 28, "承办机构": 18,
              "办理形式": 20, "咨询电话": 15, "更新日期": 12}
    for idx, name in enumerate(fields, start=1):
        ws.column_dimensions[ws.cell(1, idx).column_letter].width = widths.get(name, 12)
    ws.freeze_panes = "A2"
    stamp = dt.datetime(*FIXED_ZIP_TIME)
    wb.properties.creator = AGENCY
    wb.properties.created = stamp
    wb.properties.modified = stamp
    raw = io.BytesIO()
    wb.save(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(raw.getvalue(), stamp))


def _normalise_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Re-pack with fixed member times and a fixed modified date, so the XLSX bytes are reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                              body)
            member = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, body)
    return out.getvalue()


# ---------------------------------------------------------------- checks and main

def url_safe(text: str) -> str:
    """The most pessimistic slug a builder could make: ASCII letters and digits only."""
    return re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").lower()


def verify(records: list[dict], slug_field: str, required: list[str], date_fields: list[str], what: str) -> None:
    slugs = [r[slug_field] for r in records]
    assert all(slugs), f"{what}: empty slug"
    assert len(set(slugs)) == len(slugs), f"{what}: duplicate slug"
    ascii_slugs = [url_safe(s) for s in slugs]
    assert all(ascii_slugs) and len(set(ascii_slugs)) == len(ascii_slugs), f"{what}: slugs collide once made ASCII"
    for r in records:
        for f in required:
            assert str(r[f]).strip(), f"{what}: {r[slug_field]} lacks {f}"
        for f in date_fields:
            value = r[f] if isinstance(r[f], dt.date) else dt.date.fromisoformat(r[f])
            assert value <= TODAY or f == "有效期至", f"{what}: {f} in the future"
        code = r.get("统一社会信用代码")
        assert not code or is_valid_uscc(code), f"{what}: bad credit code {code}"


def main() -> None:
    rng = random.Random(20261124)
    reg = Registry(rng)
    permits = permit_records(rng, reg)
    penalties = penalty_records(rng, reg)
    catalog = catalog_records(rng)
    verify(permits, "许可文书编号", ["许可文书编号", "项目名称", "许可类别", "行政相对人名称", "许可决定日期"],
           ["许可决定日期", "有效期至"], "行政审批结果")
    verify(penalties, "处罚决定书文号", ["处罚决定书文号", "案件名称", "行政相对人名称", "处罚类别", "处罚决定日期"],
           ["处罚决定日期"], "行政处罚清单")
    verify(catalog, "事项编码", ["事项编码", "事项名称", "设定依据", "更新日期"], ["更新日期"], "行政审批清单")
    for r in penalties:
        "".join(r.values()).encode("gb18030")  # every character must survive the legacy encoding
        "".join(r.values()).encode("gbk")

    write_csv(TOPIC / "xingzheng-shenpi-jieguo" / "shenpi-jieguo.csv", PERMIT_FIELDS, permits, "utf-8-sig")
    write_csv(TOPIC / "xingzheng-chufa" / "xingzheng-chufa.csv", PENALTY_FIELDS, penalties, "gb18030")
    write_xlsx(TOPIC / "xingzheng-shenpi-qingdan" / "shenpi-qingdan.xlsx", "审批清单", CATALOG_FIELDS, catalog)
    total = len(permits) + len(penalties) + len(catalog)
    print(f"行政审批结果 {len(permits)}，行政审批清单 {len(catalog)}，行政处罚清单 {len(penalties)}，合计 {total} 条")


if __name__ == "__main__":
    main()
