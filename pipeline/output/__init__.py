"""The files a reader opens: the corpus tables (Parquet, CSV), the manifest and report.html."""
