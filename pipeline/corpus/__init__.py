"""Across pages and nights: the SQLite state, template lines learned from many pages of a site, and
deduplication of pages and claims. Works on what the stages made; knows nothing of the output files."""
