"""Publishing (发布): send the checked build in ``public/`` to a folder, an SSH server or S3-compatible
object storage as atomic releases, with rollback, retention and tamper verification.

Reads ``public/`` and ``public/.zhuanti/manifest.json`` only; never rebuilds. See docs/publish.md.
"""
