"""Syndicator: feeds for every category of a Markdown blog."""

__version__ = "0.1.0"
