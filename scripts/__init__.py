"""Launcher pieces for the embedded stack (run as scripts; a package so tests can import them)."""
