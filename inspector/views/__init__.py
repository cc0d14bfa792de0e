"""Inspector views, one module per page."""
