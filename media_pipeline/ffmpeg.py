"""Locate the ffmpeg tools: a system ffmpeg on PATH wins, else the static build imageio-ffmpeg ships.

The imageio build has no ffprobe, so ``ffprobe_exe`` may return None (probe.py then uses PyAV).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from media_pipeline.errors import MediaError
from media_pipeline.i18n import tr


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary to run."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MediaError(tr("找不到 ffmpeg：{e}", "ffmpeg not found: {e}", e=exc),
                         hint=tr("请安装 ffmpeg（apt-get install ffmpeg）或 pip install imageio-ffmpeg。",
                                 "install ffmpeg (apt-get install ffmpeg) or pip install imageio-ffmpeg.")) from exc


def ffprobe_exe() -> str | None:
    """ffprobe beside the ffmpeg in use (only a system install has one), else None."""
    exe = Path(ffmpeg_exe())
    sibling = exe.with_name(exe.name.replace("ffmpeg", "ffprobe"))
    if sibling != exe and sibling.is_file():
        return str(sibling)
    return None


# ffmpeg prefixes its log lines with "[name @ 0x55d0c0ffee00]"; the address helps nobody.
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+\]")
# Lines that only restate that the run failed, after the line that says why.
_NOISE = re.compile(r"^(Conversion failed!|Exiting normally|Error opening (input|output) files?:.*|"
                    r".*Terminating thread with return code.*|.*Task finished with error code.*)$")


def stderr_reason(lines: list[str], keep: int = 4) -> str:
    """The last few meaningful lines of ffmpeg's stderr, for an error message."""
    useful = []
    for line in lines:
        line = _ADDRESS.sub("]", line.strip())
        if line and not _NOISE.match(line) and line not in useful:
            useful.append(line)
    if not useful:  # only the generic lines: better than nothing
        useful = [_ADDRESS.sub("]", line.strip()) for line in lines if line.strip()]
    return " | ".join(useful[-keep:])
