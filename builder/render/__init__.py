"""Turning pages into HTML: Markdown, Jinja2 templates, URLs, post-processing."""
