"""Work done ahead of the caller, in threads: the pieces of a big file flow through stages.

polars releases the GIL while it works, so a stage run in a thread overlaps the caller's
own work on the previous piece. Both helpers keep the order of their input, hand every
error to the caller where the item that raised it would have come, and stop their
threads (closing the input) when the caller stops early.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from queue import Empty, Queue
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def read_ahead(pieces: Iterator[T]) -> Generator[T, None, None]:
    """``pieces``, the next one produced in a thread while the caller works on the
    current one."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in pieces:
                if stop.is_set():
                    break
                queue.put((True, piece))
            else:
                queue.put((False, None))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller)
            queue.put((False, exc))
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # a generator: its file is closed now, not when collected

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            more, item = queue.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let the producer see ``stop`` and close its input
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)


def map_ahead(
    work: Callable[[T], U], items: Iterator[T], workers: int = 2
) -> Generator[U, None, None]:
    """``work(item)`` for every item, in order, with up to ``workers`` items worked on in
    threads while the caller uses the result before them.

    ``items`` is drawn in the caller's thread (give it ``read_ahead`` to produce it in a
    thread of its own).
    """
    workers = max(1, workers)
    pending: deque[Future[U]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="map-ahead")
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            # Hand on what is done (and, with every worker busy, wait for the oldest).
            while pending and (len(pending) > workers or pending[0].done()):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        close = getattr(items, "close", None)
        if close is not None:
            close()
