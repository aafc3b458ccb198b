"""Scale (issue 11): data columns read as a stream with packed records, list pages that link a
window of pages, and a column index that lists thousands of pages in one Markdown list.

Memory is measured with tracemalloc (allocations, not wall-clock time): reading a CSV must not
hold the whole file, its lines or a list of rows at once, and what the records keep per row must
stay close to the size of the row in the file.
"""

from __future__ import annotations

import gc
import pickle
import tracemalloc

import pytest

from builder.build import BuildOptions, build_site
from builder.content.data import SEP, Record, load_records
from builder.errors import BuildFailed, ContentError
from tests.sitefactory import page, write_site

HEADER = ["处罚决定书文号", "案件名称", "行政相对人名称", "统一社会信用代码", "处罚事由", "处罚依据", "处罚决定日期", "处罚机关"]
DISTRICTS = ["东城", "西城", "朝阳", "海淀", "丰台", "通州"]


def csv_bytes(rows: int, encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(HEADER)]
    for i in range(1, rows + 1):
        d = DISTRICTS[i % len(DISTRICTS)]
        lines.append(f"示{d}规罚字〔2025〕第{i:07d}号,示例市{d}建设工程有限公司未取得建设工程规划许可证进行建设案,"
                     f"示例市{d}建设工程有限公司,91110{i:013d},经查，当事人在{d}区{i % 997}号地块擅自建设，涉及面积{i % 9973}.5平方米。,"
                     f"《中华人民共和国城乡规划法》第六十四条,2025-{i % 12 + 1:02d}-{i % 28 + 1:02d},示例市规划和自然资源委员会{d}分局")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def traced_load(path):
    """(records, bytes still held by the result, peak bytes while reading)."""
    gc.collect()
    tracemalloc.start()
    try:
        source = load_records(path)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return source, current, peak


def test_reading_a_csv_streams_its_rows_and_packs_its_records(tmp_path):
    sizes = {}
    for rows in (5_000, 20_000):
        path = tmp_path / f"{rows}.csv"
        path.write_bytes(csv_bytes(rows))
        source, held, peak = traced_load(path)
        assert len(source.records) == rows
        per_row_file = path.stat().st_size / rows
        sizes[rows] = (held, peak, per_row_file)
        del source
    held, peak, per_row_file = sizes[20_000]
    # Streaming: beyond what the records keep, reading needs a small, fixed amount (reading the
    # whole file as one string, its lines and a list of rows needed ~1.5 KB more per row: 30 MB here).
    assert peak - held < 2_000_000, f"reading held {(peak - held) / 1e6:.1f} MB beyond the records"
    assert (peak - held) - (sizes[5_000][1] - sizes[5_000][0]) < 1_000_000  # does not grow with the rows
    # Packed: a record keeps about its row's size in the file (a dict of cells kept ~3.5× as much).
    assert held / 20_000 < 1.5 * per_row_file, f"{held / 20_000:.0f} bytes per record, {per_row_file:.0f} per row"
    # ...and the same per row at both sizes: linear.
    assert held / 20_000 < 1.1 * sizes[5_000][0] / 5_000


def test_packed_records_give_the_same_values_and_survive_pickling(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(f"编号,名称,备注\nA1,甲{SEP}乙,x\nA2,丙\n\n A3 ,丁,\"多\n行\"\n".encode())
    source = load_records(path)
    assert [r.row for r in source.records] == [2, 3, 5]  # the blank row 4 keeps its number
    assert source.records[0].values == {"编号": "A1", "名称": f"甲{SEP}乙", "备注": "x"}  # a cell with SEP in it
    assert isinstance(source.records[0].packed, tuple) and isinstance(source.records[1].packed, str)
    assert source.records[1].values == {"编号": "A2", "名称": "丙", "备注": ""}  # a short row
    assert source.records[2].values == {"编号": "A3", "名称": "丁", "备注": "多\n行"}
    again = pickle.loads(pickle.dumps(source))
    assert [r.values for r in again.records] == [r.values for r in source.records]
    assert again.records[1].fields is again.records[2].fields  # one header tuple for every record
    assert Record.of(2, ("a", "b"), ["x", "y"]) == Record.of(2, ("a", "b"), ["x", "y"])


def test_a_gb18030_csv_is_read_again_in_gb18030_and_every_row_is_kept(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(csv_bytes(3000, "gb18030"))
    source = load_records(path)
    assert source.encoding == "gb18030" and len(source.records) == 3000 and any("GB18030" in n for n in source.notes)
    assert source.records[-1].values["处罚决定书文号"] == "示东城规罚字〔2025〕第0003000号"


def test_a_bom_csv_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "编号,名称\nA1,甲\n".encode() + "A2,乙\n".encode("gb18030"))
    with pytest.raises(ContentError) as info:
        load_records(path)
    assert info.value.row == 3 and "UTF-8" in info.value.message and "bad.csv" in str(info.value)


def test_an_empty_header_row_with_data_below_is_named(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(",,\nA1,甲,x\n".encode())
    with pytest.raises(ContentError) as info:
        load_records(path)
    assert info.value.row == 1 and "表头" in info.value.message
    path.write_bytes(b"\n\n")
    with pytest.raises(ContentError) as info:
        load_records(path)
    assert "空" in info.value.message


INDEX = """---
title: 行政处罚
data: r.csv
slug_field: 处罚决定书文号
title_field: 案件名称
date_field: 处罚决定日期
paginate: 50
---
"""


def test_a_data_column_of_2000_rows_builds_every_record_and_list_page(tmp_path):
    write_site(tmp_path, {"topics/sgs/index.md": "---\ntitle: 双公示\n---\n", "topics/sgs/cf/_index.md": INDEX,
                          "topics/sgs/cf/r.csv": csv_bytes(2000)})
    report = build_site(tmp_path, BuildOptions(jobs=1))
    pub = tmp_path / "public/sgs/cf"
    assert report.pages_written >= 2000 + 40
    doc = page(pub / "示东城规罚字-2025-第0000006号/index.html")
    cells = {tr.css_first("th").text(): tr.css_first("td").text() for tr in doc.css(".record-table tr")}
    assert cells["统一社会信用代码"] == "911100000000000006" and cells["处罚决定日期"] == "2025-07-07"
    assert (pub / "page/40/index.html").is_file() and not (pub / "page/41").exists()


def test_a_duplicate_in_a_large_csv_names_both_rows(tmp_path):
    data = csv_bytes(3000) + csv_bytes(1).split(b"\r\n")[1] + b"\r\n"  # row 1 again, as row 3002
    write_site(tmp_path, {"topics/sgs/index.md": "---\ntitle: 双公示\n---\n", "topics/sgs/cf/_index.md": INDEX,
                          "topics/sgs/cf/r.csv": data})
    with pytest.raises(BuildFailed) as info:
        build_site(tmp_path, BuildOptions(jobs=1))
    (err,) = info.value.errors
    assert err.row == 3002 and err.field == "处罚决定书文号" and "第 2 行" in err.message


def test_list_pages_link_a_window_of_pages_not_every_page(tmp_path):
    from builder.render.pages import page_window

    assert page_window(1, 10) == list(range(1, 11))
    assert page_window(1, 40) == [1, 2, 3, 4, None, 40]
    assert page_window(20, 40) == [1, None, 17, 18, 19, 20, 21, 22, 23, None, 40]
    assert page_window(39, 40) == [1, None, 36, 37, 38, 39, 40]
    write_site(tmp_path, {"topics/sgs/index.md": "---\ntitle: 双公示\n---\n", "topics/sgs/cf/_index.md": INDEX,
                          "topics/sgs/cf/r.csv": csv_bytes(2000)})
    build_site(tmp_path, BuildOptions(jobs=1))
    nav = page(tmp_path / "public/sgs/cf/page/20/index.html").css_first("nav.pagination")
    links = [(a.text(), a.attributes["href"]) for a in nav.css("a:not([rel])")]
    assert links == [("1", "../../"), ("17", "../17/"), ("18", "../18/"), ("19", "../19/"), ("21", "../21/"),
                     ("22", "../22/"), ("23", "../23/"), ("40", "../40/")]
    assert nav.css_first("span[aria-current]").text() == "20" and len(nav.css("span.gap")) == 2
    assert nav.css_first("a[rel=next]").attributes["href"] == "../21/"


def test_a_markdown_list_of_5000_links_builds_but_1001_brackets_in_one_item_still_fail(tmp_path):
    from builder.render.markdown import guard

    items = "".join(f"- [文件{i}](https://www.example.gov.cn/{i}/) 2024-01-01\n" for i in range(5000))
    guard("本专题共 5000 篇。\n\n" + items, None)  # was refused: 5,000 "[" in one paragraph
    with pytest.raises(ContentError) as info:
        guard("第一段\n\n- 甲\n- " + "[" * 1001 + "\n", tmp_path / "bad.md")
    assert info.value.line == 4 and "“[”" in info.value.message
    with pytest.raises(ContentError) as info:
        guard("第一段\n" + "[ \n" * 1001, tmp_path / "bad.md")  # one paragraph over lines: unchanged
    assert info.value.line == 1


@pytest.mark.parametrize("text", ["2025-03-01", "2024-02-29", "2025-02-30", "2025-13-01", "0000-01-01", "9999-12-31",
                                  "2025-3-1", "２０２５-03-01", " 2025-03-01", "2025/03/01", "2025-03-01 08:30"])
def test_the_fast_path_for_plain_dates_gives_what_strptime_gives(text):
    import datetime as dt

    from builder import clock
    from builder.content.frontmatter import parse_datetime

    expected = None
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            expected = dt.datetime.strptime(text.strip().replace("/", "-"), fmt).replace(tzinfo=clock.zone())
            break
        except ValueError:
            pass
    assert parse_datetime(text) == expected


def test_loading_pauses_the_cyclic_collector_and_turns_it_back_on_even_after_an_error(tmp_path):
    import gc

    write_site(tmp_path, {"topics/sgs/index.md": "---\ntitle: 双公示\n---\n", "topics/sgs/cf/_index.md": INDEX,
                          "topics/sgs/cf/r.csv": "处罚决定书文号,案件名称,决定日期\n".encode()})
    assert gc.isenabled()
    with pytest.raises(BuildFailed) as info:
        build_site(tmp_path, BuildOptions(jobs=1))
    assert gc.isenabled()
    # the declared date_field is not in the header (it was ignored: records had no date)
    (err,) = info.value.errors
    assert err.field == "处罚决定日期" and err.row == 1 and "决定日期" in (err.hint or "")
