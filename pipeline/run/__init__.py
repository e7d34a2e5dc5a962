"""A run: the runner composes the stages, the corpus steps and the outputs; the executors (a local
process pool, Dask) run the per-page work they are given."""
