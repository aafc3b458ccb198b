"""Pre-deployment checks on built HTML, the way government-website inspections do them."""
