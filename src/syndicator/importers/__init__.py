"""Bring posts over from another blog engine: one module per engine, each writing post files."""
