"""Run a function on several threads at once (each with its own database connection), for tests of
what two workers or requests do together."""

import threading


def at_once(fn, n: int = 2, *, timeout: float = 120) -> tuple[list, list]:
    """Call `fn()` on `n` threads released together; returns (results, exceptions)."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, name=f"w{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, errors
