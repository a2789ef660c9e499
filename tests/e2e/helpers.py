"""Helpers of the end-to-end scenarios."""

import threading


def concurrently(*functions, barrier=False, timeout=600):
    """Run ``functions`` in threads at once and return their results in order; the first error is raised.

    ``barrier``: the threads wait for each other before calling, so that the calls really overlap.
    """
    results = [None] * len(functions)
    errors = []
    gate = threading.Barrier(len(functions)) if barrier else None

    def run(index, function):
        try:
            if gate:
                gate.wait(30)
            results[index] = function()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results
