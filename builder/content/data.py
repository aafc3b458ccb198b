"""Data columns: records from CSV, XLSX, JSON or YAML, validated row by row.

Rows are numbered as a spreadsheet shows them (the header is row 1) so staff find them in Excel;
for XLSX the sheet name is given too. JSON/YAML records are numbered from 1 (the n-th record).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.errors import ContentError
from builder.i18n import tr


@dataclass
class Record:
    """One row of a data column (e.g. 一条行政许可结果)."""

    row: int
    values: dict[str, str]
    sheet: str | None = None


@dataclass
class DataSource:
    path: Path
    fields: list[str]
    records: list[Record]
    encoding: str = "utf-8"
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def load_records(path: Path) -> DataSource:
    """Read every record of a data file; raises ContentError naming file/row when it cannot."""
    if not path.is_file():
        raise ContentError(tr("数据文件不存在", "data file not found"), path,
                           hint=tr("请检查 _index.md 中 data: 的文件名。", "check the file name in the column's 'data:'."))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _load_csv(path)
        if suffix == ".xlsx":
            return _load_xlsx(path)
        if suffix in (".json", ".yaml", ".yml"):
            return _load_structured(path, suffix)
    except ContentError:
        raise
    except Exception as exc:  # a corrupt file of any library's making
        raise ContentError(tr("无法读取数据文件：{e}", "cannot read the data file: {e}", e=exc), path,
                           hint=tr("请确认文件未损坏，可用 Excel 打开后另存。", "make sure the file is not damaged; re-save it.")
                           ) from exc
    raise ContentError(tr("不支持的数据文件类型 “{s}”", "unsupported data file type '{s}'", s=suffix), path,
                       hint=tr("支持 .csv、.xlsx、.json、.yaml。", "use .csv, .xlsx, .json or .yaml."))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode_csv(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(tr("CSV 既不是 UTF-8 也不是 GB18030 编码", "CSV is neither UTF-8 nor GB18030"), path, row=line,
                           hint=tr("请在 Excel 中另存为“CSV UTF-8（逗号分隔）”。",
                                   "re-save it from Excel as 'CSV UTF-8 (Comma delimited)'.")) from None


def _load_csv(path: Path) -> DataSource:
    text, encoding = _decode_csv(path)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    source = _from_rows(path, rows, None)
    source.encoding = encoding
    if encoding == "gb18030":
        source.notes.append(tr("按 GB18030 编码读取（不是 UTF-8）", "read as GB18030 (not UTF-8)"))
    return source


def _load_xlsx(path: Path) -> DataSource:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return _from_rows(path, rows, ws.title)
    finally:
        wb.close()


def _from_rows(path: Path, rows: list[list[Any]], sheet: str | None) -> DataSource:
    # Excel often leaves trailing empty rows/columns; a header cell may be blank at the end.
    while rows and not any(_cell(c) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ContentError(tr("数据文件是空的", "the data file is empty"), path, sheet=sheet,
                           hint=tr("第 1 行应为表头（字段名）。", "row 1 must hold the field names."))
    header = [_cell(c) for c in rows[0]]
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for col, name in enumerate(header, start=1):
        if not name:
            raise ContentError(tr("表头第 {c} 列没有字段名", "header column {c} has no field name", c=col), path,
                               row=1, sheet=sheet)
        if name in seen:
            raise ContentError(tr("表头字段重复：“{n}”", "duplicate field name '{n}' in the header", n=name), path,
                               row=1, sheet=sheet, field=name)
        seen.add(name)
    records = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell(c) for c in row]
        if not any(cells):
            continue  # a blank line between blocks of data
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        records.append(Record(number, values, sheet))
    return DataSource(path, header, records, sheet=sheet)


def _load_structured(path: Path, suffix: str) -> DataSource:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ContentError(tr("JSON 语法错误：{e}", "JSON syntax error: {e}", e=exc.msg), path, line=exc.lineno) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ContentError(tr("YAML 语法错误：{e}", "YAML syntax error: {e}", e=exc.problem), path,
                           line=mark.line + 1 if mark else None) from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise ContentError(tr("应为记录列表（或含 records 列表的对象）", "expected a list of records (or {\"records\": [...]})"),
                           path)
    fields: list[str] = []
    records = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ContentError(tr("第 {n} 条记录不是“字段: 值”对象", "record {n} is not a field: value object", n=number), path,
                               row=number)
        for key in item:
            if str(key) not in fields:
                fields.append(str(key))
        records.append(Record(number, {str(k): _cell(v) for k, v in item.items()}))
    return DataSource(path, fields, records)
