"""FairRLock: re-entrant, and waiters get it in the order they asked."""

import threading
import time

import pytest

from agent.fair_lock import FairRLock


def test_waiters_are_served_in_arrival_order():
    lock, order = FairRLock(), []
    lock.acquire()
    threads = []
    for i in range(20):
        t = threading.Thread(target=lambda i=i: (lock.acquire(), order.append(i), lock.release()))
        t.start()
        threads.append(t)
        time.sleep(0.01)  # arrival order = i
    lock.release()
    for t in threads:
        t.join(5)
    assert order == list(range(20))


def test_a_releasing_thread_cannot_barge_back_in_front_of_the_queue():
    """What made queued chats overtake each other with threading.RLock: the thread that releases
    asks again at once and wins before the woken waiter runs."""
    lock, order = FairRLock(), []
    lock.acquire()
    threads = [threading.Thread(target=lambda i=i: (lock.acquire(), order.append(i), lock.release())) for i in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # all five queued
    lock.release()
    lock.acquire()  # straight back in line: behind the five
    assert sorted(order) == list(range(5))
    lock.release()
    for t in threads:
        t.join(5)


def test_reentrant_and_owned():
    lock = FairRLock()
    with lock, lock:
        pass
    with pytest.raises(RuntimeError):
        lock.release()
