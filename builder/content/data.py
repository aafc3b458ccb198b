"""Data columns: records from CSV, XLSX, JSON or YAML, validated row by row.

Rows are numbered as a spreadsheet shows them (the header is row 1) so staff find them in Excel;
for XLSX the sheet name is given too. JSON/YAML records are numbered from 1 (the n-th record).

A CSV is read as a stream (a 双公示 export may hold a million rows): one row at a time, never the
whole file as one string, and each record keeps its cells packed into a single string (about a
third of the memory of a dict of cells; ``Record.values`` unpacks them when asked).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.content import yamlsafe
from builder.errors import ContentError
from builder.i18n import tr

# An XLSX may declare A1:XFD1048576 (17 billion cells) in a 5 KB file; only the cells present are
# read, and beyond these limits the sheet is refused rather than exhausting the machine (openpyxl
# also needs ~10 µs a cell: a larger table belongs in a CSV, which streams and has no row limit).
MAX_ROWS = 200_000
MAX_COLUMNS = 500
MAX_CELLS = 4_000_000
SEP = "\x1f"  # the ASCII unit separator: between the packed cells of a record

_last: list = [None, None]  # the record whose values were unpacked last, and its dict


@dataclass(slots=True)
class Record:
    """One row of a data column (e.g. 一条行政许可结果): its cells packed into one string
    (``SEP``-joined; a tuple in the rare row whose cells contain ``SEP``), by ``fields`` (the
    header, one tuple shared by every record of the file)."""

    row: int
    packed: str | tuple[str, ...]
    fields: tuple[str, ...]
    sheet: str | None = None

    @classmethod
    def of(cls, row: int, fields: tuple[str, ...], cells: list[str], sheet: str | None = None) -> Record:
        joined = SEP.join(cells)
        packed = joined if joined.count(SEP) == len(cells) - 1 else tuple(cells)
        return cls(row, packed, fields, sheet)

    @property
    def values(self) -> dict[str, str]:
        """Field name → cell text (a template reads a record's fields one after the other: the
        dict of the record read last is kept)."""
        if _last[0] is self:
            return _last[1]
        cells = self.packed.split(SEP) if isinstance(self.packed, str) else self.packed
        values = dict(zip(self.fields, cells, strict=True)) if self.fields else {}
        _last[0], _last[1] = self, values
        return values


@dataclass
class DataSource:
    path: Path
    fields: list[str]
    records: list[Record]
    encoding: str = "utf-8"
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def load_records(path: Path, sheet: str | None = None, field_source: Path | None = None) -> DataSource:
    """Read every record of a data file; raises ContentError naming file/row when it cannot.

    ``sheet`` names the XLSX worksheet to read (``sheet:`` in the column's ``_index.md``,
    ``field_source``); without it the active sheet is read if visible, else the first visible one."""
    if not path.is_file():
        raise ContentError(tr("数据文件不存在", "data file not found"), path,
                           hint=tr("请检查 _index.md 中 data: 的文件名。", "check the file name in the column's 'data:'."))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _load_csv(path)
        if suffix in (".xlsx", ".xlsm"):
            return _load_xlsx(path, sheet, field_source or path)
        if suffix in (".json", ".yaml", ".yml"):
            return _load_structured(path, suffix)
    except ContentError:
        raise
    except Exception as exc:  # a corrupt file of any library's making
        reason = str(exc) or type(exc).__name__
        raise ContentError(tr("无法读取数据文件：{e}", "cannot read the data file: {e}", e=reason), path,
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


def _csv_encoding(path: Path) -> str:
    with path.open("rb") as f:
        return "utf-8-sig" if f.read(3) == b"\xef\xbb\xbf" else "utf-8"


def _load_csv(path: Path) -> DataSource:
    """A CSV in UTF-8 (with or without BOM) or else GB18030, read once as a stream: a file that is
    not UTF-8 shows it in its first lines (the header is Chinese), where reading starts over."""
    encoding = _csv_encoding(path)
    try:
        source = _records(path, _csv_rows(path, encoding), None)
    except UnicodeDecodeError:
        if encoding == "utf-8-sig":
            raise ContentError(tr("CSV 以 UTF-8 标记开头，却含有不是 UTF-8 的内容", "the CSV starts with a UTF-8 mark but "
                                  "is not UTF-8"), path, row=_bad_line(path, "utf-8-sig"),
                               hint=tr("请在 Excel 中另存为“CSV UTF-8（逗号分隔）”。",
                                       "re-save it from Excel as 'CSV UTF-8 (Comma delimited)'.")) from None
        encoding = "gb18030"
        try:
            source = _records(path, _csv_rows(path, encoding), None)
        except UnicodeDecodeError:
            raise ContentError(tr("CSV 既不是 UTF-8 也不是 GB18030 编码", "CSV is neither UTF-8 nor GB18030"), path,
                               row=_bad_line(path, "gb18030"),
                               hint=tr("请在 Excel 中另存为“CSV UTF-8（逗号分隔）”。",
                                       "re-save it from Excel as 'CSV UTF-8 (Comma delimited)'.")) from None
        source.notes.append(tr("按 GB18030 编码读取（不是 UTF-8）", "read as GB18030 (not UTF-8)"))
    source.encoding = encoding
    return source


def _bad_line(path: Path, encoding: str) -> int:
    """The line holding the first byte that does not decode (an error path: the file is read again)."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data[: exc.start].count(b"\n") + 1
    return 1


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    """The rows of a CSV, one at a time. An unbalanced quote (which would silently swallow the rows
    after it into one cell) is an error naming the row and field."""
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, strict=True)
        header: list[str] = []
        number = 0  # spreadsheet row of the last row read
        start = 1  # physical line where the next row begins
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                raise _unbalanced(path, encoding, header, number + 1, start) from None
            number += 1
            start = reader.line_num + 1
            if number == 1:
                header = row
            elif len(header) > 1:
                for i, cell in enumerate(row):
                    # A cell holding whole lines that look like further rows: a quote opened and
                    # closed far apart, not a cell with a line break typed in it (Alt+Enter in Excel).
                    if "\n" in cell and any(line.count(",") >= len(header) - 1 for line in cell.split("\n")[1:]):
                        raise _unbalanced(path, encoding, header, number, None, i)
            yield row


def _unbalanced(path: Path, encoding: str, header: list[str], number: int, start: int | None,
                index: int | None = None) -> ContentError:
    if index is None and start is not None:
        # the field whose opening quote is never closed is the last one on its first line
        with path.open(encoding=encoding, newline="") as f:
            for n, line in enumerate(f, start=1):
                if n == start:
                    index = len(next(csv.reader([line.rstrip("\r\n")]), [""])) - 1
                    break
    name = header[index] if header and index is not None and index < len(header) else None
    return ContentError(
        tr("引号不成对：这一格从引号开始，却没有在本行结束，后面的行会被并入这一格",
           "unbalanced quote: this cell opens a quote that does not close on its line, so the rows after it "
           "would be swallowed into it"), path, row=number, field=name or (str(index + 1) if index is not None else None),
        hint=tr("请删除多余的英文双引号 \"，或把整格用双引号括起并把格内的 \" 写成 \"\"。",
                "remove the stray double quote, or quote the whole cell and double any quote inside it (\"\")."))


def _load_xlsx(path: Path, sheet: str | None, field_source: Path) -> DataSource:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = _choose_sheet(wb, path, sheet, field_source)
        source = _records(path, _used_rows(ws, path), ws.title)
        if len(wb.worksheets) > 1:
            source.notes.append(tr("读取工作表 “{s}”", "read sheet '{s}'", s=ws.title))
        return source
    finally:
        wb.close()


def _choose_sheet(wb, path: Path, sheet: str | None, field_source: Path):
    """The sheet named by ``sheet:``, else the active sheet when visible, else the first visible one.
    A hidden sheet (often a worksheet of personal data behind the public one) is read only when named."""
    if sheet:
        if sheet not in wb.sheetnames:
            raise ContentError(tr("数据文件中没有工作表 “{s}”（有：{a}）", "the data file has no sheet '{s}' (it has: {a})",
                                  s=sheet, a="、".join(wb.sheetnames)), field_source, field="sheet")
        return wb[sheet]
    active = wb.active
    if active is not None and active.sheet_state == "visible":
        return active
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    if not visible:
        raise ContentError(tr("工作簿中没有可见的工作表", "the workbook has no visible sheet"), path,
                           hint=tr("请在 _index.md 中用 sheet: 指明要发布的工作表。",
                                   "name the sheet to publish with 'sheet:' in _index.md."))
    return visible[0]


def _used_rows(ws, path: Path) -> Iterator[list[str]]:
    """The cells actually present, whatever range the sheet declares; refuses a sheet past the limits."""
    ws.reset_dimensions()  # the declared range may be A1:XFD1048576: read what is there instead
    cells = 0
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [_cell(v) for v in row]
        while values and not values[-1]:
            values.pop()
        if not values:
            yield []  # a blank row keeps the numbering of the rows after it
            continue
        if number > MAX_ROWS or len(values) > MAX_COLUMNS:
            raise ContentError(
                tr("工作表太大：第 {r} 行、第 {c} 列有数据（最多 {mr} 行、{mc} 列）",
                   "the sheet is too large: row {r}, column {c} holds data (at most {mr} rows, {mc} columns)",
                   r=number, c=len(values), mr=f"{MAX_ROWS:,}", mc=MAX_COLUMNS), path, sheet=ws.title, row=number,
                hint=tr("请删除表格外的多余内容，或把数据拆成几个文件（或另存为 CSV）。",
                        "delete stray cells outside the table, split the data or save it as CSV."))
        cells += len(values)
        if cells > MAX_CELLS:
            raise ContentError(tr("工作表太大：超过 {n} 个单元格", "the sheet is too large: more than {n} cells", n=f"{MAX_CELLS:,}"),
                               path, sheet=ws.title, row=number,
                               hint=tr("请把数据拆成几个文件，或另存为 CSV。", "split the data into several files or save it as CSV."))
        yield values


def _records(path: Path, rows: Iterable[list[Any]], sheet: str | None) -> DataSource:
    """Header and records from rows read one at a time (row 1 is the header; blank rows are skipped
    and keep their numbers, as Excel shows them)."""
    it = iter(rows)
    header_row = next(it, None)
    header = [_cell(c) for c in header_row] if header_row is not None else []
    while header and not header[-1]:  # Excel often leaves trailing empty columns
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
    fields = tuple(header)
    width = len(fields)
    records = []
    of = Record.of
    for number, row in enumerate(it, start=2):
        cells = [c.strip() if isinstance(c, str) else _cell(c) for c in row]
        if not any(cells):
            continue  # a blank line between blocks of data
        if not width:
            raise ContentError(tr("第 1 行（表头）是空的", "row 1 (the header) is empty"), path, row=1, sheet=sheet,
                               hint=tr("第 1 行应为表头（字段名）。", "row 1 must hold the field names."))
        if len(cells) != width:
            cells = (cells + [""] * width)[:width]
        records.append(of(number, fields, cells, sheet))
    if not header and not records:
        raise ContentError(tr("数据文件是空的", "the data file is empty"), path, sheet=sheet,
                           hint=tr("第 1 行应为表头（字段名）。", "row 1 must hold the field names."))
    return DataSource(path, header, records, sheet=sheet)


def _load_yaml(path: Path, text: str) -> Any:
    """Records of a YAML data file, constructed one by one so a bad value names its record (row)."""
    node = yamlsafe.compose(text, path)
    if node is None:
        return None
    items = node
    if isinstance(node, yamlsafe.yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "records" and isinstance(value, yamlsafe.yaml.SequenceNode):
                items = value
    if not isinstance(items, yamlsafe.yaml.SequenceNode):
        return yamlsafe.construct(node, path)
    out = []
    for number, item in enumerate(items.value, start=1):
        try:
            out.append(yamlsafe.construct(item, path))
        except ContentError as exc:
            exc.row = number
            raise
    return out


def _load_structured(path: Path, suffix: str) -> DataSource:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if suffix == ".json" else _load_yaml(path, text)
    except json.JSONDecodeError as exc:
        raise ContentError(tr("JSON 语法错误：{e}", "JSON syntax error: {e}", e=exc.msg), path, line=exc.lineno) from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise ContentError(tr("应为记录列表（或含 records 列表的对象）", "expected a list of records (or {\"records\": [...]})"),
                           path)
    names: dict[str, None] = {}  # every field of any record, in order of appearance
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ContentError(tr("第 {n} 条记录不是“字段: 值”对象", "record {n} is not a field: value object", n=number), path,
                               row=number)
        names.update((str(key), None) for key in item)
    fields = tuple(names)
    records = []
    for number, item in enumerate(data, start=1):
        values = {str(k): _cell(v) for k, v in item.items()}
        records.append(Record.of(number, fields, [values.get(f, "") for f in fields]))
    return DataSource(path, list(fields), records)
