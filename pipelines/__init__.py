"""Bundled clinical use cases, loaded by clinai.runs as plugins (see docs/architecture.md)."""
