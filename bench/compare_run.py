"""Scenario code (bench/run.py ``compare``), on the source: one comparison of the data type with one system,
driven step by step as the cron runner drives it (``_cron_compare`` then a commit, one step per call), timed,
with this process's memory: resident before the first step, and the peak (``ru_maxrss``, ``VmHWM``: one high-water
mark on Linux, reset before the first step where it allows it; else the process's whole life, Odoo's loading
included).

SYSTEM and DATA_TYPE (ids) are prepended by bench/run.py.
"""

import resource
import time

env = env  # noqa: F821, PLW0127 - bound by the shell runner


def rss_mb():
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


Run = env["sync.compare.run"]
system, data_type = env["sync.system"].browse(SYSTEM), env["sync.data.type"].browse(DATA_TYPE)  # noqa: F821
env.cr.commit()  # noqa: E8102
rss_before = rss_mb()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:  # the peak from here on (VmHWM back to the current resident size): the comparison's own, not Odoo's loading
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")
    hwm_reset = True
except OSError:
    hwm_reset = False


def hwm_mb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


started = time.perf_counter()
run = Run._start(system, data_type)
env.cr.commit()  # noqa: E8102 - a benchmark worker: each call is a cron transaction of its own
steps, rss_samples, phase_s, phase_steps = 0, [], {}, {}
while run.state in ("queued", "running") and steps < 100000:
    phase, step_started = run.phase, time.perf_counter()
    Run._cron_compare()
    env.cr.commit()  # noqa: E8102 - as the cron runner does after each call
    env.invalidate_all()
    phase_s[phase] = phase_s.get(phase, 0) + time.perf_counter() - step_started
    phase_steps[phase] = phase_steps.get(phase, 0) + 1
    steps += 1
    rss_samples.append(rss_mb())
wall = time.perf_counter() - started
result = {
    "run": run.id, "state": run.state, "error": run.error or "", "note": run.note or "", "steps": steps,
    "wall_s": wall, "duration_s": run.duration, "total": run.total_count, "in_step": run.in_step_count,
    "differs": run.differs_count, "missing": run.missing_count, "only_there": run.only_there_count,
    "not_sent": run.not_sent_count, "errors": run.error_count, "drift": run.drift_count, "lines": len(run.line_ids),
    "line_outcomes": sorted(set(run.line_ids.mapped("outcome"))),
    "rss_before_mb": rss_before, "peak_before_mb": peak_before, "rss_max_sampled_mb": max(rss_samples or [0]),
    "rss_end_mb": rss_mb(), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "peak_while_comparing_mb": hwm_mb() if hwm_reset else None,
    "rss_samples_mb": rss_samples[:: max(len(rss_samples) // 8, 1)], "phase_s": phase_s, "phase_steps": phase_steps,
}
