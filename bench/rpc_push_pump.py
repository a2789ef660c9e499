"""Scenario code (bench/run.py), on the source: drive the schedulers until every message is done, timed."""

import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Message = env["sync.message"]
mine = [("system_id.code", "=", "bench_rpc")]
started = time.perf_counter()
for _round in range(200):
    Message._cron_create_queue()
    env.cr.commit()
    Message._cron_send()
    env.cr.commit()
    if not Message.search_count([("state", "not in", ("done", "failed", "cancelled")), *mine]):
        break
elapsed = time.perf_counter() - started
states = dict(Message._read_group(mine, ["state"], ["__count"]))
result = {"seconds": elapsed, "states": states}
