"""Data columns: one detail page per record, from CSV (UTF-8 BOM or GB18030), XLSX, JSON or YAML."""

import json

import openpyxl
import pytest

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed
from tests.sitefactory import md, page, write_site

INDEX = """---
title: 行政许可结果
data: {data}
slug_field: 许可编号
title_field: 项目名称
date_field: 许可日期
required: [许可编号, 项目名称, 许可日期]
paginate: 2
---

按照“双公示”要求公开。
"""

CSV = "许可编号,项目名称,许可日期,备注\n京规许〔2025〕001号,甲项目,2025-03-01,无\n京规许〔2025〕002号,乙项目,2025-03-02,\n京规许〔2025〕003号,丙项目,2025-03-03,\n"


def site(tmp_path, data_name, data_bytes, index=INDEX):
    return write_site(tmp_path, {
        "topics/sgs/index.md": md("双公示"),
        "topics/sgs/xuke/_index.md": index.format(data=data_name),
        f"topics/sgs/xuke/{data_name}": data_bytes,
    })


def errors_of(tmp_path):
    with pytest.raises(BuildFailed) as info:
        build_site(tmp_path, BuildOptions())
    return info.value.errors


def test_csv_with_bom_makes_one_page_per_record_with_all_fields(tmp_path):
    site(tmp_path, "records.csv", b"\xef\xbb\xbf" + CSV.encode("utf-8"))
    report = build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public/sgs/xuke"
    assert (pub / "京规许-2025-001号/index.html").is_file()
    doc = page(pub / "京规许-2025-001号/index.html")
    rows = {tr.css_first("th").text(): tr.css_first("td").text() for tr in doc.css(".record-table tr")}
    assert rows == {"许可编号": "京规许〔2025〕001号", "项目名称": "甲项目", "许可日期": "2025-03-01", "备注": "无"}
    assert doc.css_first("h1").text() == "甲项目"
    listing = [a.text() for a in page(pub / "index.html").css(".item-list a")]
    assert listing == ["丙项目", "乙项目"]  # newest first, 2 per page
    assert (pub / "page/2/index.html").is_file()
    assert not report.notes  # UTF-8: nothing to say


def test_gb18030_csv_is_read_and_the_encoding_is_reported(tmp_path):
    site(tmp_path, "records.csv", CSV.encode("gb18030"))
    report = build_site(tmp_path, BuildOptions())
    assert any("GB18030" in n for n in report.notes)
    doc = page(tmp_path / "public/sgs/xuke/京规许-2025-002号/index.html")
    assert doc.css_first("h1").text() == "乙项目"


def test_xlsx_records_and_errors_name_the_sheet_and_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "审批清单"
    ws.append(["许可编号", "项目名称", "许可日期"])
    ws.append(["A-1", "甲", "2025-01-01"])
    ws.append(["A-2", "", "2025-01-02"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    site(tmp_path, "records.xlsx", path.read_bytes())
    (err,) = errors_of(tmp_path)
    assert err.sheet == "审批清单" and err.row == 3 and err.field == "项目名称"
    assert "records.xlsx" in str(err) and "第 3 行" in str(err) and "审批清单" in str(err)


def test_json_and_yaml_sources(tmp_path):
    records = [{"许可编号": "J-1", "项目名称": "甲", "许可日期": "2025-01-01"}]
    site(tmp_path / "j", "records.json", json.dumps(records, ensure_ascii=False).encode())
    build_site(tmp_path / "j", BuildOptions())
    assert (tmp_path / "j/public/sgs/xuke/j-1/index.html").is_file()
    site(tmp_path / "y", "records.yaml", "- 许可编号: Y-1\n  项目名称: 乙\n  许可日期: 2025-01-01\n".encode())
    build_site(tmp_path / "y", BuildOptions())
    assert (tmp_path / "y/public/sgs/xuke/y-1/index.html").is_file()


def test_duplicate_and_empty_slugs_and_missing_required_fields_name_file_row_and_field(tmp_path):
    bad = "许可编号,项目名称,许可日期\nA-1,甲,2025-01-01\nA-1,乙,2025-01-02\n,丙,2025-01-03\n〔〕,丁,2025-01-04\nA-5,戊,\n"
    site(tmp_path, "records.csv", bad.encode())
    errs = errors_of(tmp_path)
    found = {(e.row, e.field) for e in errs}
    assert (3, "许可编号") in found  # duplicate of row 2
    assert (4, "许可编号") in found  # empty
    assert (5, "许可编号") in found  # only symbols
    assert (6, "许可日期") in found  # required, empty
    dup = next(e for e in errs if e.row == 3)
    assert "第 2 行" in dup.message and dup.path.endswith("records.csv")


def test_unreadable_data_file_and_unknown_declared_field(tmp_path):
    site(tmp_path / "a", "records.xlsx", b"this is not a zip file")
    (err,) = errors_of(tmp_path / "a")
    assert "records.xlsx" in str(err) and "无法读取" in err.message
    site(tmp_path / "b", "records.csv", "编号,项目名称,许可日期\n1,甲,2025-01-01\n".encode())
    (err,) = errors_of(tmp_path / "b")
    assert err.field == "许可编号" and err.row == 1


def test_a_data_value_that_would_escape_public_stays_inside(tmp_path):
    site(tmp_path, "records.csv", "许可编号,项目名称,许可日期\n../../etc/passwd,甲,2025-01-01\n".encode())
    build_site(tmp_path, BuildOptions())
    written = [p for p in tmp_path.rglob("index.html")]
    assert all((tmp_path / "public") in p.parents for p in written)
    assert (tmp_path / "public/sgs/xuke/etc-passwd/index.html").is_file()
