"""Data package: the default word lists (zhuanti_words), shipped in the wheel for `zhuanti init` and checks."""
