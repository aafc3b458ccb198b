"""A site whose one data column (行政处罚 双公示) has N rows: the shape of a real 双公示 export.

    .venv/bin/python bench/gen_data.py --rows 1000000 --out /tmp/data-1000000 [--encoding gb18030]

Writes ``site_src/site.toml`` (search off, ``source_link_errors = "warning"``), one topic ``sgs``
with a navigation page and the column ``chufa``: its ``_index.md`` (slug, title and date fields,
required fields, 20 records per list page) and ``chufa.csv`` with a header row and N data rows of
15 fields (~540 bytes a row in UTF-8: 1,000,000 rows ≈ 540 MB). CSV because that is what the
provincial credit platforms export (Excel stops at 1,048,576 rows and the loader refuses XLSX
sheets past 200,000 rows). Deterministic (``--seed``): the same N gives the same bytes. Rows
are written as they are made; memory stays flat whatever N.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import shutil
from pathlib import Path

FIELDS = ["处罚决定书文号", "案件名称", "行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人",
          "违法行为类型", "处罚事由", "处罚依据", "处罚类别", "处罚结果", "罚款金额（万元）", "没收违法所得金额（万元）",
          "处罚决定日期", "处罚机关"]
DISTRICTS = ["东城", "西城", "朝阳", "海淀", "丰台", "石景山", "门头沟", "房山", "通州", "顺义", "昌平", "大兴"]
TRADES = ["建设工程", "置业", "实业", "物业管理", "商贸", "科技", "房地产开发", "建筑劳务", "市政工程", "园林绿化"]
WORDS = ["恒达", "安信", "华通", "金盛", "宏远", "博雅", "瑞丰", "新城", "和泰", "永昌", "嘉禾", "中科"]
ACTS = [("未取得建设工程规划许可证进行建设", "《中华人民共和国城乡规划法》第六十四条"),
        ("擅自改变土地用途", "《中华人民共和国土地管理法》第八十一条"),
        ("未按照建设工程规划许可证的规定进行建设", "《中华人民共和国城乡规划法》第六十四条"),
        ("破坏耕地种植条件", "《中华人民共和国土地管理法》第七十五条"),
        ("未按期报送开工验线申请", "《示例市城乡规划条例》第七十条")]
KINDS = ["罚款", "警告", "没收违法所得", "责令限期改正并处罚款"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
INDEX = """---
title: 行政处罚清单
column_type: 数据发布
data: chufa.csv
slug_field: 处罚决定书文号
title_field: 案件名称
date_field: 处罚决定日期
required: [处罚决定书文号, 案件名称, 行政相对人名称, 处罚事由, 处罚依据, 处罚类别, 处罚决定日期, 处罚机关]
paginate: 20
summary: 我委及各分局依法作出的行政处罚决定（基准测试数据）。
---

本栏目公示依法作出的行政处罚决定（{rows:,} 条，基准测试生成）。
"""
SITE = """title = "双公示数据基准"
base_url = "https://www.example.gov.cn/"
language = "zh-CN"

[identity]
site_code = "1100000088"
icp = "京ICP备00000000号"
police_record = "京公网安备 11000000000000号"
organizer = "示例市规划和自然资源委员会"

[build]
source_link_errors = "warning"
search = false
"""
TOPIC = """title = "双公示"
summary = "依法公示行政许可和行政处罚信息。"
start = 2020-01-01
columns = ["chufa"]
"""
NAV = """---
title: 双公示
---

行政处罚信息公示（基准测试数据）。
"""


def rows(n: int, seed: int):
    rnd = random.Random(seed)
    start = dt.date(2020, 1, 1)
    for i in range(1, n + 1):
        district = rnd.choice(DISTRICTS)
        year = 2020 + (i * 7) % 6
        company = f"示例市{rnd.choice(WORDS)}{rnd.choice(WORDS)}{rnd.choice(TRADES)}有限公司"
        act, basis = rnd.choice(ACTS)
        kind = rnd.choice(KINDS)
        fine = f"{rnd.randint(1, 99999) / 100:.2f}" if "罚款" in kind else "0"
        day = start + dt.timedelta(days=rnd.randrange(0, 2190))
        code = "9111" + "".join(rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))
        yield [f"示{district}规罚字〔{year}〕第{i:07d}号", f"{company}{act}案", company, "法人及非法人组织", code,
               f"{rnd.choice(SURNAMES)}某某", act, f"经查，当事人在{district}区{rnd.randint(1, 999)}号地块{act}，"
               f"涉及面积{rnd.randint(10, 99999) / 10:.1f}平方米。", basis, kind,
               f"{kind}{fine}万元" if fine != "0" else kind, fine, "0", day.isoformat(),
               f"示例市规划和自然资源委员会{district}分局"]


def generate(n: int, out: Path, seed: int = 1, encoding: str = "utf-8-sig") -> Path:
    shutil.rmtree(out, ignore_errors=True)
    col = out / "topics/sgs/chufa"
    col.mkdir(parents=True)
    (out / "site_src").mkdir()
    (out / "site_src/site.toml").write_text(SITE, encoding="utf-8")
    (out / "topics/sgs/topic.toml").write_text(TOPIC, encoding="utf-8")
    (out / "topics/sgs/index.md").write_text(NAV, encoding="utf-8")
    (col / "_index.md").write_text(INDEX.format(rows=n), encoding="utf-8")
    with (col / "chufa.csv").open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")  # what Excel writes
        w.writerow(FIELDS)
        w.writerows(rows(n, seed))
    (out / ".complete").write_text(f"{n} rows\n", encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--encoding", choices=["utf-8-sig", "utf-8", "gb18030"], default="utf-8-sig",
                    help="utf-8-sig (Excel's 'CSV UTF-8', default), utf-8 or gb18030 (older Excel exports)")
    args = ap.parse_args()
    out = generate(args.rows, args.out, args.seed, args.encoding)
    size = (out / "topics/sgs/chufa/chufa.csv").stat().st_size
    print(f"{args.rows:,} rows → {out}/topics/sgs/chufa/chufa.csv ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
