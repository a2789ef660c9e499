"""Scenario code (bench/peers.py), on a source: N partners created in one transaction and committed, timed.

PREFIX, ROUND and N are prepended by bench/peers.py.  On the queue_job source, the prefix says how the jobs are
cut (bench/addons/bench_queue_job_peer: a job per partner, or per 100), enqueued in the same transaction.  Returns
the time of the commit (``time.time()``), the seconds of the transaction (the suite's capture or queue_job's
enqueuing included: both run before the commit ends) and the jobs pending at the commit (None without queue_job).
"""

import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner
started = time.time()
env["res.partner"].create([
    {"name": f"Pushed {ROUND}-{i}", "ref": f"{PREFIX}{ROUND}-{i:05d}", "email": f"p{ROUND}.{i}@push.example"}  # noqa: F821
    for i in range(N)  # noqa: F821
])
env.flush_all()
flushed = time.time()
jobs = env["queue.job"].search_count([("state", "=", "pending")]) if "queue.job" in env else None
before_commit = time.time()
env.cr.commit()
committed = time.time()
result = {"committed": committed, "seconds": flushed - started + committed - before_commit,
          "pending_jobs_at_commit": jobs}
