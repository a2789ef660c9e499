"""Scenario code (bench/run.py): one send worker draining the queue; returns when it started and ended."""

import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env.cr.commit()  # noqa: E8102 - a benchmark worker: start from a fresh snapshot
started, cpu = time.time(), time.process_time()
sent = 0
while True:
    count = env["sync.message"]._cron_send()
    env.cr.commit()  # noqa: E8102 - each run is a cron transaction of its own
    sent += count
    if not count:
        break
result = {"started": started, "ended": time.time(), "sent": sent, "cpu_s": time.process_time() - cpu}
