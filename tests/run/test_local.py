from __future__ import annotations

from collections.abc import Iterator

from pipeline.run import local


def test_bounded_map_keeps_order_and_reads_ahead_only_a_few() -> None:
    class Done:  # a future that is already done
        def __init__(self, value: list[int]) -> None:
            self.value = value

        def result(self) -> list[int]:
            return self.value

    pulled = 0

    def docs() -> Iterator[int]:  # counts how far the map has read
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield i

    taken: list[int] = []
    for value in local.bounded_map(lambda batch: Done([d * 10 for d in batch]), docs(), slots=12):
        taken.append(value)
        assert pulled - len(taken) < 12 + local.BATCH  # never more than the slots and one batch ahead
    assert taken == [i * 10 for i in range(100)]
