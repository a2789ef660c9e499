"""Scenario code (bench/run.py), on the plain target: its own in-process batch create rate, rolled back."""

import time

N = 2000
env = env  # noqa: F821, PLW0127 - bound by the shell runner
rows = [{"name": f"In-process {i}", "ref": f"INPROC-{i:05d}", "email": f"p{i}@inprocess.example"} for i in range(N)]
started, cpu = time.perf_counter(), time.process_time()
for start in range(0, N, 500):
    env["res.partner"].create(rows[start:start + 500])
env.flush_all()
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
env.cr.rollback()
result = {"partners": N, "seconds": elapsed, "cpu_s": cpu}
