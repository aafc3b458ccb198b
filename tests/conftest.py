import os

import pytest

# Messages come in the default language (Chinese) unless a test asks for English; progress bars off.
os.environ.pop("ZHUANTI_LANG", None)
os.environ["ZHUANTI_QUIET"] = "1"


@pytest.fixture(autouse=True)
def _default_language():
    # `main(["--lang", "en", ...])` sets ZHUANTI_LANG for the process (so workers inherit it);
    # clear it around every test so one test's language never leaks into the next.
    os.environ.pop("ZHUANTI_LANG", None)
    yield
    os.environ.pop("ZHUANTI_LANG", None)
