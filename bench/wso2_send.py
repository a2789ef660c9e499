"""Scenario code (bench/run.py): send every queued message through the broker, timed."""

import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Message = env["sync.message"]
started = time.perf_counter()
for _round in range(100):
    Message._cron_send()
    env.cr.commit()
    if not Message.search_count([("state", "not in", ("done", "failed", "cancelled"))]):
        break
result = {"seconds": time.perf_counter() - started, "states": dict(Message._read_group([], ["state"], ["__count"]))}
