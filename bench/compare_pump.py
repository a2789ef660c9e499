"""Scenario code (bench/run.py ``compare``), on the source: queue the captured changes, then send until every
message is done (or failed), committing after each scheduler call as the cron runner does; timed."""

import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Message = env["sync.message"]
started = time.perf_counter()
for _round in range(10000):
    Message._cron_create_queue()
    env.cr.commit()  # noqa: E8102 - as the cron runner does after each call
    env.cr.execute("SELECT count(*) FROM sync_change")
    if not env.cr.fetchone()[0]:
        break
queued = time.perf_counter()
for _round in range(100000):
    Message._cron_send()
    env.cr.commit()  # noqa: E8102
    env.invalidate_all()
    if not Message.search_count([("state", "not in", ("done", "failed", "cancelled"))]):
        break
    env.cr.execute("UPDATE sync_message SET next_attempt_at = now() at time zone 'utc' "
                   "WHERE state IN ('retry', 'waiting')")
    env.cr.commit()  # noqa: E8102
env.cr.rollback()
env.cr.execute("SELECT s.code, m.state, count(*) FROM sync_message m JOIN sync_system s ON s.id = m.system_id "
               "GROUP BY 1, 2")
states = {f"{code}:{state}": count for code, state, count in env.cr.fetchall()}
env.cr.execute("SELECT DISTINCT last_error FROM sync_message WHERE state != 'done' LIMIT 5")
errors = [row[0] for row in env.cr.fetchall()]
result = {"queue_seconds": queued - started, "send_seconds": time.perf_counter() - queued, "states": states,
          "errors": errors}
