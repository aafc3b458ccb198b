"""argparse in the user's language: its own words (usage, section titles, -h, error messages) in
Simplified Chinese unless ``--lang en``.

argparse has no per-parser translation hook (its words come from module-level ``gettext``), and
patching the standard library for the whole process would change every other parser. Instead the
parser class here supplies the translated words structurally: its own ``-h`` help, section titles,
a formatter with a translated usage prefix, and an ``error()`` that translates argparse's messages.
Sub-parsers inherit the class (``add_subparsers`` uses the parent's class), so commands added later
are translated too.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata

from builder.i18n import current_language, tr

# argparse's error messages (3.11–3.13), most specific first: (pattern, Chinese template).
_ERRORS: list[tuple[re.Pattern, str]] = [(re.compile(p, re.DOTALL), zh) for p, zh in (
    (r"^the following arguments are required: (?P<a>.*)$", "缺少必需的参数：{a}"),
    (r"^invalid choice: (?P<v>.*?) \(choose from (?P<c>.*)\)$", "无效的选择 {v}（可选：{c}）"),
    (r"^invalid (?P<t>\w+) value: (?P<v>.*)$", "无效的{t}值：{v}"),
    (r"^expected one argument$", "需要一个值"),
    (r"^expected at least one argument$", "至少需要一个值"),
    (r"^expected at most one argument$", "最多只能有一个值"),
    (r"^expected (?P<n>\d+) arguments?$", "需要 {n} 个值"),
    (r"^unrecognized arguments: (?P<a>.*)$", "无法识别的参数：{a}"),
    (r"^ambiguous option: (?P<o>\S+) could match (?P<m>.*)$", "有歧义的选项：{o} 可能是 {m}"),
    (r"^not allowed with argument (?P<a>.*)$", "不能与参数 {a} 同时使用"),
    (r"^one of the arguments (?P<a>.*) is required$", "必须给出以下参数之一：{a}"),
    (r"^ignored explicit argument (?P<v>.*)$", "这个选项不接受值：{v}"),
    (r"^can't open '(?P<f>.*)': (?P<e>.*)$", "无法打开“{f}”：{e}"),
    (r"^unexpected option string: (?P<o>.*)$", "意外的选项：{o}"),
)]
_TYPES = {"int": "整数", "float": "数字", "str": "文本"}
_ARGUMENT = re.compile(r"^argument (?P<n>[^:]+): (?P<rest>.*)$", re.DOTALL)


def translate_error(message: str) -> str:
    """argparse's English error message in Chinese (unchanged in English mode or when unknown)."""
    if current_language() == "en":
        return message
    prefix = ""
    m = _ARGUMENT.match(message)
    if m:
        prefix, message = f"参数 {m.group('n')}：", m.group("rest")
    for pattern, zh in _ERRORS:
        hit = pattern.match(message)
        if hit:
            values = hit.groupdict()
            if "t" in values:
                values["t"] = _TYPES.get(values["t"], values["t"])
            return prefix + zh.format(**values)
    return prefix + message


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class HelpFormatter(argparse.HelpFormatter):
    """The usage prefix and the section headings in the user's language."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, tr("用法：", "usage: ") if prefix is None else prefix)

    def add_argument(self, action):
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:  # the help column leaves room for two-column characters
            invocation = self._format_action_invocation(action)
            self._action_max_length = max(self._action_max_length,
                                          _width(invocation) + self._current_indent)

    def _format_action(self, action):
        # argparse pads by characters, but a Chinese character takes two columns: take the extra
        # column of each back from the padding so the help texts line up ("--root 目录  站点目录").
        text = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        wide = _width(invocation) - len(invocation)
        first, newline, rest = text.partition("\n")
        head = first.lstrip(" ")
        if wide and head.startswith(invocation):
            indent = first[: len(first) - len(head)]
            after = head[len(invocation):]
            spaces = len(after) - len(after.lstrip(" "))
            if after.strip() and spaces - wide >= 2:
                first = indent + invocation + after[wide:]
        return first + newline + rest

    def format_help(self) -> str:
        text = super().format_help()
        # section headings end in a full-width colon in Chinese ("选项：")
        return text if current_language() == "en" else re.sub(r"(?m)^(\S[^\n]*):$", r"\1：", text)


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words follow ``--lang`` (Chinese by default)."""

    def __init__(self, *args, **kwargs) -> None:
        add_help = kwargs.pop("add_help", True)
        parents = kwargs.pop("parents", [])
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        # titles first: a parent's options join the group of the same (translated) title
        self._positionals.title = tr("位置参数", "positional arguments")
        self._optionals.title = tr("选项", "options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=tr("显示此帮助并退出", "show this help message and exit"))
        for parent in parents:  # what argparse.ArgumentParser.__init__ does with parents=
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, tr("{p}：错误：{m}\n", "{p}: error: {m}\n", p=self.prog, m=translate_error(message)))
