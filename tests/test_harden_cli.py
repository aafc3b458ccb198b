"""CLI help and parse errors in the user's language (issue 9, item 19): argparse's own words in
Chinese by default, every option explained, --blueprint lists its choices."""

from __future__ import annotations

import argparse

import pytest

from builder.cli import blueprint_names, main, make_parser

ENGLISH_ARGPARSE = ("usage:", "positional arguments", "options:", "optional arguments", "show this help message",
                    "the following arguments are required", "invalid choice", "invalid int value",
                    "unrecognized arguments", "error:", "show program's version")


def subcommand_paths(parser: argparse.ArgumentParser, prefix=()):
    """Every (sub)command path of the parser: (), ("build",), ("new", "topic") …"""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from subcommand_paths(sub, (*prefix, name))


def help_text(capsys, argv) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return capsys.readouterr().out


def test_every_help_page_is_chinese_and_every_option_is_explained(capsys):
    paths = [path for path, _ in subcommand_paths(make_parser())]
    assert ("build",) in paths and ("new", "topic") in paths
    for path in paths:
        text = help_text(capsys, [*path, "--help"])
        assert "用法：" in text and "显示此帮助并退出" in text, path
        assert not [w for w in ENGLISH_ARGPARSE if w in text], (path, text)
    for path, parser in subcommand_paths(make_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(a.help for a in action._choices_actions), path
            elif action.help != argparse.SUPPRESS:
                assert action.help, (path, action.option_strings or action.dest)


def test_the_blueprint_option_lists_its_choices_including_the_sites_own(capsys, tmp_path):
    text = help_text(capsys, ["new", "topic", "--help"])
    assert all(name in text for name in ("standard", "data-list", "gallery", "video", "interview"))
    (tmp_path / "site_src/blueprints/huiyi").mkdir(parents=True)
    assert "huiyi" in help_text(capsys, ["new", "topic", "--root", str(tmp_path), "--help"])
    assert "huiyi" in blueprint_names(tmp_path) and "standard" in blueprint_names(tmp_path)


@pytest.mark.parametrize("argv, words", [
    (["new", "column", "demo/news"], "缺少必需的参数：--title"),
    (["build", "--jobs", "many"], "参数 --jobs：无效的整数值：'many'"),
    (["check", "--format", "pdf"], "参数 --format：无效的选择"),
    (["publsh"], "无效的选择"),
    (["build", "--fast"], "无法识别的参数：--fast"),
    ([], "缺少必需的参数"),
])
def test_parse_errors_are_chinese_and_exit_2(capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "用法：" in err and "错误：" in err
    assert not [w for w in ENGLISH_ARGPARSE if w in err], err


def test_english_mode_keeps_argparse_english(capsys):
    text = help_text(capsys, ["--lang", "en", "build", "--help"])
    assert "usage:" in text and "show this help message and exit" in text and "用法" not in text
    with pytest.raises(SystemExit):
        main(["--lang", "en", "build", "--jobs", "x"])
    assert "invalid int value" in capsys.readouterr().err


def test_help_texts_line_up_although_chinese_characters_take_two_columns(capsys):
    import unicodedata

    def column_of(line: str, text: str) -> int:
        before = line[: line.index(text)]
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)

    lines = help_text(capsys, ["new", "topic", "--help"]).splitlines()
    root = next(x for x in lines if x.lstrip().startswith("--root"))
    title = next(x for x in lines if x.lstrip().startswith("--title"))
    helps = next(x for x in lines if x.lstrip().startswith("-h, --help"))
    assert column_of(root, "站点目录") == column_of(title, "专题标题") == column_of(helps, "显示此帮助")
