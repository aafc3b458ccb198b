"""A preview keeps nothing per save: after warming up, the number of live Python objects stays
the same however many rebuilds run (bench/serve.py measures the process's RSS over 500 saves)."""

from __future__ import annotations

import gc

from builder import engine_sources
from builder.config import load_site_config
from builder.serve.session import PreviewSession, release_memory
from tests.sitefactory import BASIC, md, write_site


def test_rebuilds_retain_no_objects(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)
    write_site(tmp_path, BASIC)
    session = PreviewSession(tmp_path, load_site_config(tmp_path))
    page = tmp_path / "topics/demo/news/c.md"
    rel = "demo/news/c/index.html"
    try:
        assert session.rebuild(None).ok

        def save(i: int) -> None:
            page.write_text(md(f"丙新闻{i}", f"正文{i}。", date="2026-01-01"), encoding="utf-8")
            outcome = session.rebuild({page})
            assert outcome.ok and rel in outcome.changed
            session.read_sources()
            session.page(rel, (session.output / rel).read_bytes())  # findings and the reload client
            release_memory()

        for i in range(15):  # caches fill up (templates, regular expressions, the checks)
            save(i)
        gc.collect()
        before = len(gc.get_objects())
        for i in range(15, 75):
            save(i)
        gc.collect()
        grown = len(gc.get_objects()) - before
        assert grown < 60, f"{grown} more live objects after 60 saves"  # one save leaves ~2 KB of objects today
    finally:
        session.close()
