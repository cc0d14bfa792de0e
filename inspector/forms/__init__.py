"""Inspector forms, one module per page."""
