"""zhuanti (专题): build, check and publish the special-topic sections of a government website."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zhuanti")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
