import os

import pytest

# Tests read messages in the default language unless they ask for English.
os.environ.pop("ZHUANTI_LANG", None)
os.environ["ZHUANTI_QUIET"] = "1"


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    monkeypatch.delenv("ZHUANTI_LANG", raising=False)
