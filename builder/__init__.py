"""zhuanti (专题): build, check and publish the special-topic sections of a government website."""

# The one place the version is written (pyproject.toml reads it from here): a constant, because
# importlib.metadata costs ~20 ms at every start of the command.
__version__ = "0.1.0"
