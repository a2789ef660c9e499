"""Scenario code (bench/run.py): drain the backlog, cron call by cron call, sampling this process's memory.

Each call of the send scheduler gets a short time budget, as a cron run
does, so that memory is sampled as the backlog goes down.
"""

import resource

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Params = env["ir.config_parameter"]
budget = Params.get_param("sync_queue.send_time_budget")
Params.set_param("sync_queue.send_time_budget", 2)
env.cr.commit()  # noqa: E8102 - a benchmark worker: each call is a cron transaction of its own
Message = env["sync.message"]
mine = [("system_id.code", "like", "bench_m_")]
total = Message.search_count(mine)


def rss_mb():
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


samples = []
for _round in range(10000):
    sent = Message._cron_send()
    env.cr.commit()  # noqa: E8102 - as the cron runner does after each call
    env.invalidate_all()
    done = Message.search_count([*mine, ("state", "=", "done")])
    samples.append((done, rss_mb()))
    if not sent:
        break
Params.set_param("sync_queue.send_time_budget", budget)  # the other benchmarks' budget again
result = {"total": total, "samples": samples,
          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
