"""Requests that race: n calls released together from a barrier, and clients that share one
session (each thread with its own cookie jar), for tests that check a rule holds whatever
order concurrent requests commit in."""
import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from support.client import Client


def parallel(n, fn):
    """fn(0) … fn(n-1) on n threads that start together; their results in that order."""
    start = threading.Barrier(n)

    def run(i):
        start.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


def clones(client, n):
    """n clients sharing client's session: each thread keeps its own cookie jar."""
    out = []
    for _ in range(n):
        c = Client(client.server)
        c.cookies = copy.copy(client.cookies)
        c.csrf_token = client.csrf_token
        out.append(c)
    return out
