"""Orchestration configuration as YAML: parsing and validation (pure Python, no Django)."""
