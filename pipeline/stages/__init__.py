"""Per-page stages: each a function from a `Document` to a `Document` or a `Drop`, knowing nothing of
other pages, the corpus or the files written (read turns inputs into Documents; the rest are listed
in order by `run.pages.build_stages`)."""
