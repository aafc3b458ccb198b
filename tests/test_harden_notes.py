"""Issue 9, item 21: the GB18030 note is said once per version of the file, not on every build."""

from __future__ import annotations

import os

from builder.build import BuildOptions, build_site
from builder.notes import fresh_notes
from tests.sitefactory import md, write_site

INDEX = """---
title: 行政许可结果
data: records.csv
slug_field: 许可编号
title_field: 项目名称
---
"""
CSV = "许可编号,项目名称\n京规许〔2025〕001号,甲项目\n"


def gb_notes(report) -> list[str]:
    return [n for n in report.notes if "GB18030" in n]


def test_the_gb18030_note_is_said_once_per_version_of_the_file(tmp_path):
    write_site(tmp_path, {"topics/sgs/index.md": md("双公示"), "topics/sgs/xuke/_index.md": INDEX,
                          "topics/sgs/xuke/records.csv": CSV.encode("gb18030")})
    first = build_site(tmp_path, BuildOptions())
    (note,) = gb_notes(first)
    assert note.startswith("topics/sgs/xuke/records.csv: ")
    assert not gb_notes(build_site(tmp_path, BuildOptions()))  # the same file: not again
    data = tmp_path / "topics/sgs/xuke/records.csv"
    data.write_bytes((CSV + "京规许〔2025〕002号,乙项目\n").encode("gb18030"))
    st = data.stat()
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert gb_notes(build_site(tmp_path, BuildOptions())) == [note]  # changed: said again


def test_notes_that_name_no_file_are_always_said(tmp_path):
    notes = ["媒体：转码视频 0 个", "nowhere.csv: 按 GB18030 编码读取（不是 UTF-8）"]
    assert fresh_notes(tmp_path, tmp_path / "cache", notes) == notes
    assert fresh_notes(tmp_path, tmp_path / "cache", notes) == notes
