"""Tamper check (篡改检测): what is deployed vs the live release's record — changed, missing and
unexpected files — from the target itself or over HTTP (``--url``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin

from builder.errors import ConfigError
from builder.i18n import tr
from builder.publish.release import FileEntry


@dataclass
class VerifyResult:
    target: str
    release: str
    source: str                   # "target" or the --url
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # pages that could not be fetched (HTTP only)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unexpected or self.errors)

    def to_json(self, time: str) -> str:
        return json.dumps({
            "target": self.target, "release": self.release, "source": self.source, "time": time,
            "ok": self.ok, "checked": self.checked,
            "summary": {"changed": len(self.changed), "missing": len(self.missing),
                        "unexpected": len(self.unexpected), "errors": len(self.errors)},
            "changed": self.changed, "missing": self.missing, "unexpected": self.unexpected,
            "errors": self.errors}, ensure_ascii=False, indent=1) + "\n"

    def to_text(self) -> str:
        lines = []
        for label, items in ((tr("被改动", "changed"), self.changed), (tr("缺失", "missing"), self.missing),
                             (tr("多出（不在发布记录中）", "unexpected (not in the release)"), self.unexpected),
                             (tr("无法获取", "could not fetch"), self.errors)):
            lines.extend(f"{label}: {p}" for p in items)
        return "\n".join(lines)


def compare(release: str, target: str, expected: dict[str, FileEntry], actual: dict[str, str],
            source: str = "target") -> VerifyResult:
    """``actual`` maps every deployed path to its sha256."""
    result = VerifyResult(target=target, release=release, source=source, checked=len(actual))
    for path, entry in sorted(expected.items()):
        got = actual.get(path)
        if got is None:
            result.missing.append(path)
        elif got != entry.sha256:
            result.changed.append(path)
    result.unexpected = sorted(p for p in actual if p not in expected)
    return result


def page_urls(base: str, files: dict[str, FileEntry]) -> dict[str, str]:
    """The URL of every file of the release under ``base`` (directory URLs for index.html)."""
    if not base.startswith(("http://", "https://")):
        raise ConfigError(tr("--url 应以 http:// 或 https:// 开头：{u}", "--url must start with http:// or https://: {u}",
                             u=base), field="--url")
    base = base if base.endswith("/") else base + "/"
    urls = {}
    for path in files:
        rel = path[: -len("index.html")] if path == "index.html" or path.endswith("/index.html") else path
        urls[path] = urljoin(base, quote(rel))
    return urls


def verify_http(release: str, target: str, base: str, files: dict[str, FileEntry],
                concurrency: int = 16, timeout: float = 20.0) -> VerifyResult:
    """Fetch every file of the release over HTTP and hash it. Files that are not in the release
    cannot be enumerated over HTTP, so ``unexpected`` stays empty here (verify the target for it)."""
    import httpx

    urls = page_urls(base, files)
    result = VerifyResult(target=target, release=release, source=base)

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                     headers={"User-Agent": "zhuanti-verify"}) as client:
            async def one(path: str, url: str) -> None:
                async with sem:
                    try:
                        resp = await client.get(url)
                    except httpx.HTTPError as exc:
                        result.errors.append(f"{url}: {exc.__class__.__name__}: {exc}")
                        return
                if resp.status_code == 404:
                    result.missing.append(path)
                elif resp.status_code != 200:
                    result.errors.append(f"{url}: HTTP {resp.status_code}")
                else:
                    result.checked += 1
                    if hashlib.sha256(resp.content).hexdigest() != files[path].sha256:
                        result.changed.append(path)

            await asyncio.gather(*(one(p, u) for p, u in urls.items()))

    asyncio.run(run())
    for items in (result.changed, result.missing, result.errors):
        items.sort()
    return result
