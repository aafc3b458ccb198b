"""The output folder: staged next to public/, then swapped in atomically.

A failed build removes its staging folder and leaves the previous public/ as it was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path

from builder.errors import ConfigError
from builder.i18n import tr
from builder.manifest import MANIFEST_REL

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def check_output_folder(root: Path, public: Path) -> None:
    """Refuse an output folder that would overwrite sources or a folder zhuanti did not make."""
    config = root / "site_src" / "site.toml"
    protected = [root, root / "site_src", root / "topics", root / "themes"]
    if any(public == p or p.is_relative_to(public) or public.is_relative_to(p) for p in protected[1:]) or public == root:
        raise ConfigError(tr("输出目录 {p} 会覆盖源文件", "output folder {p} would overwrite sources", p=public), config,
                          field="output", hint=tr("请使用单独的目录，如 output = \"public\"。",
                                                  "use a folder of its own, e.g. output = \"public\"."))
    if public.exists() and not public.is_dir():
        raise ConfigError(tr("输出路径 {p} 不是目录", "output path {p} is not a folder", p=public), config, field="output")
    if public.is_dir() and any(public.iterdir()) and not (public / MANIFEST_REL).is_file():
        raise ConfigError(
            tr("输出目录 {p} 里已有不是 zhuanti 生成的文件，为免丢失未覆盖它",
               "output folder {p} holds files zhuanti did not make; not overwriting them", p=public), config,
            field="output", hint=tr("请移走这些文件，或在 site.toml 中换一个 output 目录。",
                                    "move those files away, or set another output folder in site.toml."))


def new_staging(public: Path) -> Path:
    staging = public.parent / f".{public.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False when the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


def swap_in(staging: Path, public: Path) -> None:
    """Make ``staging`` the new ``public`` with no moment where public/ is half-written."""
    if not public.exists():
        os.rename(staging, public)
        return
    if _exchange(staging, public):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous build
        return
    old = public.parent / f".{public.name}.old-{os.getpid()}"
    os.rename(public, old)
    os.rename(staging, public)
    shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
