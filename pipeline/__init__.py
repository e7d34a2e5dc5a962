"""Scraped Chinese web pages to a clean, deduplicated corpus of role-definition claims."""

__version__ = "0.4.0"
