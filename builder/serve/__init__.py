"""zhuanti serve: the live preview for content staff — build once, watch the sources, rebuild what
changed, reload the browser; errors as an overlay and findings marked in the page."""
