from __future__ import annotations

import pytest

from pipeline.model import site_of


@pytest.mark.parametrize(("url", "site"), [
    ("https://www.example.com/a", "example.com"), ("http://[oops/", None), ("http://[::1]:80/x", "::1"), (None, None),
    ("not a url", None),
])
def test_site_of_any_url(url: str | None, site: str | None) -> None:
    assert site_of(url) == site
