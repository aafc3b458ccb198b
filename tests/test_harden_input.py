"""Hostile or broken content: hidden sheets, unused attachments, alias bombs, huge declared ranges,
unbalanced CSV quotes, and inputs that used to end in a traceback (issue 9, items 2, 6, 7, 9)."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

import openpyxl
import pytest

from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.content import yamlsafe
from builder.errors import BuildFailed, ContentError
from tests.sitefactory import BASIC, md, write_site

DATA_INDEX = "---\ntitle: 行政许可\ndata: {name}\nslug_field: 编号\ntitle_field: 名称\n{extra}---\n"


def errors_of(root):
    with pytest.raises(BuildFailed) as info:
        build_site(root, BuildOptions())
    return info.value.errors


def data_site(tmp_path, name, data, extra=""):
    write_site(tmp_path, {**BASIC, "topics/demo/xuke/_index.md": DATA_INDEX.format(name=name, extra=extra)})
    (tmp_path / "topics/demo/xuke" / name).write_bytes(data)
    return tmp_path


def xlsx_hidden_first_sheet() -> bytes:
    wb = openpyxl.Workbook()
    secret = wb.active
    secret.title = "身份"
    secret.append(["编号", "名称", "身份证号"])
    secret.append(["S1", "张三", "110101199001011234"])
    public = wb.create_sheet("公开")
    public.append(["编号", "名称"])
    public.append(["P1", "公开许可"])
    secret.sheet_state = "hidden"
    wb.active = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- item 2: hidden sheets and unused attachments ------------------------------------------

def test_hidden_first_sheet_is_not_published_and_the_sheet_used_is_named(tmp_path):
    data_site(tmp_path, "list.xlsx", xlsx_hidden_first_sheet())
    report = build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public/demo/xuke"
    assert (pub / "p1/index.html").is_file() and not (pub / "s1").exists()
    assert not any("110101199001011234" in p.read_text(encoding="utf-8") for p in tmp_path.glob("public/**/*.html"))
    assert any("读取工作表 “公开”" in n for n in report.notes)


def test_a_hidden_sheet_is_read_only_when_named_and_an_unknown_sheet_names_the_choices(tmp_path):
    data_site(tmp_path, "list.xlsx", xlsx_hidden_first_sheet(), extra="sheet: 身份\n")
    build_site(tmp_path, BuildOptions())
    assert (tmp_path / "public/demo/xuke/s1/index.html").is_file()
    data_site(tmp_path, "list.xlsx", xlsx_hidden_first_sheet(), extra="sheet: 汇总\n")
    (err,) = errors_of(tmp_path)
    assert err.path.endswith("_index.md") and err.field == "sheet" and "汇总" in err.message and "公开" in err.message


def test_an_attachment_no_page_links_to_is_left_out_and_listed(tmp_path):
    write_site(tmp_path, {**BASIC,
                          "topics/demo/news/a.md": md("甲新闻", "下载[名单](名单.xlsx)和[说明][1]。\n\n[1]: files/说明.docx\n\n"
                                                      "示例：`[表](身份证号.csv)`\n\n```\n[稿](files/草稿.docx)\n```\n",
                                                      date="2026-01-03"),
                          "topics/demo/news/名单.xlsx": b"PK-linked",
                          "topics/demo/news/files/说明.docx": b"PK-linked-doc",
                          "topics/demo/news/files/草稿.docx": b"PK-draft",
                          "topics/demo/news/身份证号.csv": "姓名,身份证号\n张三,110101199001011234\n",
                          "topics/demo/policy/doc/统计.xls": b"\xd0\xcf\x11\xe0"})
    report = build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public/demo"
    assert (pub / "news/名单.xlsx").is_file() and (pub / "news/files/说明.docx").is_file()
    assert not (pub / "news/身份证号.csv").exists() and not (pub / "news/files/草稿.docx").exists()
    assert not (pub / "policy/doc/统计.xls").exists()
    assert (pub / "policy/doc/file.pdf").is_file()  # not an office document: published as before
    (note,) = [n for n in report.notes if "未发布" in n]
    assert "身份证号.csv" in note and "草稿.docx" in note and "统计.xls" in note and "名单.xlsx" not in note


# ---- item 6: YAML alias bombs ----------------------------------------------------------------

BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] +
                 [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]" for i in range(8)])


def test_alias_bomb_in_front_matter_is_refused_quickly_naming_file_and_line(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/bomb.md": "---\ntitle: 炸弹\n" + BOMB + "\ntags: *i\n---\n正文\n"})
    started = time.perf_counter()
    (err,) = errors_of(tmp_path)
    assert time.perf_counter() - started < 30  # 10^9 values if expanded
    assert err.path.endswith("bomb.md") and "别名" in err.message and err.line and 3 <= err.line <= 12


def test_alias_bomb_in_a_data_yaml_is_refused(tmp_path):
    data = BOMB + "\nrecords:\n  - {编号: A1, 名称: 甲, 附注: *i}\n"
    data_site(tmp_path, "list.yaml", data.encode())
    (err,) = errors_of(tmp_path)
    assert err.path.endswith("list.yaml") and "别名" in err.message and err.line


def test_alias_bomb_in_a_media_sidecar_is_refused(tmp_path):
    from media_pipeline.catalog import parse_sidecar

    # only known keys, the bomb nested inside "tags": refused for its shape, without being expanded
    levels = ["[x, x, x, x, x, x, x, x, x, x]"] + ["[" + ", ".join([f"*l{i}"] * 10) + "]" for i in range(8)]
    bomb = "tags: [" + ", ".join(f"&l{i} {v}" for i, v in enumerate(levels)) + "]\n"
    started = time.perf_counter()
    with pytest.raises(Exception) as info:
        parse_sidecar("title: 标题\n" + bomb, tmp_path / "a.jpg.yaml")
    assert time.perf_counter() - started < 10
    assert "a.jpg.yaml:2" in str(info.value) and "tags" in str(info.value)


def test_a_self_referencing_alias_and_a_modest_alias_are_handled():
    assert yamlsafe.load("a: &a [1, 2]\nb: *a\n", None) == {"a": [1, 2], "b": [1, 2]}


# ---- item 7: an XLSX that declares the whole sheet -------------------------------------------

def declare_whole_sheet(data: bytes, extra_cell: str | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', body.decode())
                if extra_cell:
                    text = text.replace("</sheetData>", extra_cell + "</sheetData>")
                body = text.encode()
            dst.writestr(item, body)
    return out.getvalue()


def simple_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["编号", "名称"])
    wb.active.append(["A1", "甲"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_declaring_a1_to_xfd1048576_reads_only_the_used_range(tmp_path):
    data_site(tmp_path, "list.xlsx", declare_whole_sheet(simple_xlsx()))
    started = time.perf_counter()
    build_site(tmp_path, BuildOptions())
    assert time.perf_counter() - started < 30  # was 3.9 GB and minutes
    assert (tmp_path / "public/demo/xuke/a1/index.html").is_file()


def test_xlsx_with_data_far_outside_the_table_is_refused_with_its_cell(tmp_path):
    far = '<row r="5"><c r="ZZ5" t="inlineStr"><is><t>x</t></is></c></row>'
    data_site(tmp_path, "list.xlsx", declare_whole_sheet(simple_xlsx(), far))
    (err,) = errors_of(tmp_path)
    assert err.path.endswith("list.xlsx") and err.row == 5 and "太大" in err.message and "702" in err.message


# ---- item 9: an unbalanced quote in a CSV ----------------------------------------------------

def test_csv_with_an_unbalanced_quote_fails_naming_row_and_field(tmp_path):
    data_site(tmp_path, "list.csv", '编号,名称\nA1,"甲许可\nA2,乙许可\nA3,丙许可\n'.encode())
    (err,) = errors_of(tmp_path)
    assert (err.row, err.field) == (2, "名称") and "引号" in err.message


def test_csv_quote_closed_rows_later_fails_too_but_a_real_multiline_cell_is_fine(tmp_path):
    data_site(tmp_path, "list.csv", '编号,名称,备注\nA1,"甲,许可\nA2,乙,x\nA3,丙,y"\nA4,丁,z\n'.encode())
    (err,) = errors_of(tmp_path)
    assert (err.row, err.field) == (2, "名称")
    data_site(tmp_path, "list.csv", '编号,名称,备注\nA1,甲,"第一行\n第二行"\nA2,乙,z\n'.encode())
    build_site(tmp_path, BuildOptions())
    assert (tmp_path / "public/demo/xuke/a2/index.html").is_file()


# ---- tracebacks that became messages ----------------------------------------------------------

@pytest.mark.parametrize("value, words", [("2026-02-30", "日期不存在：2026-02-30"),
                                          ("0001-01-01T00:00:00+09:00", "超出可用范围"),
                                          ("9999-12-31T23:59:59Z", "超出可用范围")])
def test_impossible_dates_name_file_and_line(tmp_path, value, words):
    write_site(tmp_path, {**BASIC, "topics/demo/news/d.md": f"---\ntitle: 日期\ndate: {value}\n---\n正文\n"})
    (err,) = errors_of(tmp_path)
    assert err.path.endswith("d.md") and err.line == 3 and words in err.message


def test_bad_date_in_a_data_yaml_names_its_record(tmp_path):
    data_site(tmp_path, "list.yaml", "- {编号: A1, 名称: 甲}\n- {编号: A2, 名称: 乙, 日期: 2026-02-30}\n".encode())
    (err,) = errors_of(tmp_path)
    assert err.path.endswith("list.yaml") and err.row == 2 and err.line == 2


def test_a_256_character_slug_and_csv_slug_value_are_refused(tmp_path):
    long = "长" * 90  # 270 bytes
    write_site(tmp_path, {**BASIC, "topics/demo/news/x.md": md("长", slug=long)})
    (err,) = errors_of(tmp_path)
    assert err.field == "slug" and "太长" in err.message
    data_site(tmp_path, "list.csv", f"编号,名称\n{'a' * 256},甲\n".encode())
    errs = [e for e in errors_of(tmp_path) if e.path.endswith("list.csv")]
    assert [(e.row, e.field) for e in errs] == [(2, "编号")] and "太长" in errs[0].message


@pytest.mark.parametrize("name, clash", [("index.html.md", "index.html"), ("sitemap.xml.md", "sitemap.xml")])
def test_a_page_named_like_a_generated_file_is_a_collision(tmp_path, name, clash):
    write_site(tmp_path, {**BASIC, f"site_src/{name}": md("冲突")})
    (err,) = errors_of(tmp_path)
    assert err.path.endswith(name) and f"/{clash}" in err.message


def test_dangling_symbolic_links_are_named(tmp_path):
    write_site(tmp_path, BASIC)
    os.symlink(tmp_path / "nowhere.md", tmp_path / "topics/demo/news/gone.md")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "topics/demo/policy/doc/gone.pdf")
    errs = errors_of(tmp_path)
    assert sorted(os.path.basename(e.path) for e in errs) == ["gone.md", "gone.pdf"]
    assert all("不存在" in e.message for e in errs)


def test_site_toml_that_is_a_folder_exits_2_with_a_message(tmp_path, capsys):
    (tmp_path / "site_src/site.toml").mkdir(parents=True)
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "是一个目录" in capsys.readouterr().err


def test_yaml_value_errors_carry_the_line(tmp_path):
    with pytest.raises(ContentError) as info:
        yamlsafe.load("a: 1\nb: 2026-13-01\n", tmp_path / "x.yaml")
    assert info.value.line == 2
