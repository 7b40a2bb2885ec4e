"""A re-entrant lock granted in arrival order.

`threading.RLock` wakes an arbitrary waiter, so chats queued on the engine overtook each other
(11 of 100 in bench/load.py). The daemon's engine and memory locks are `FairRLock`s instead.
"""

from __future__ import annotations

import threading


class FairRLock:
    """Re-entrant; waiting threads get the lock first come, first served (ticket order)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._next_ticket = 0
        self._serving = 0

    def acquire(self) -> bool:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            ticket, self._next_ticket = self._next_ticket, self._next_ticket + 1
            while self._owner is not None or self._serving != ticket:
                self._cond.wait()
            self._owner, self._depth, self._serving = me, 1, self._serving + 1
            return True

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a FairRLock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> "FairRLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
