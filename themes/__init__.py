"""Data package: the bundled themes (zhuanti_themes), shipped in the wheel for `zhuanti init`."""
