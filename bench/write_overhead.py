"""Scenario code (bench/run.py): write() on a synchronized model against the same write unsynchronized.

Both measured side by side in one database: res.partner with and without an
enabled data type mapping the written field; the synchronized side includes
the capture at commit (the precommit hook).  In a database without the suite
only the plain write is measured (``write_plain_per_s``).
"""

import time

N = 2000
ROUNDS = 3
env = env  # noqa: F821, PLW0127 - bound by the shell runner
Partner = env["res.partner"]
partners = Partner.create([{"name": f"W {i}"} for i in range(N)])
env.flush_all()
env.cr.precommit.run()


def timed_writes(tag):
    best = None
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        for partner in partners:
            partner.write({"email": f"{tag}{round_}@example.com"})
        env.flush_all()
        env.cr.precommit.run()  # what the commit runs: the outbox insert
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best


unsynchronized = timed_writes("u")
if "sync.library" not in env:
    result = {"write_plain_per_s": round(N / unsynchronized)}
else:
    library = env["sync.library"].create({"name": "W", "slug": "bench_w"})
    system = env["sync.system"].create({"name": "W", "code": "bench_w"})
    data_type = env["sync.data.type"].create({
        "name": "W", "library_id": library.id, "model_id": env["ir.model"]._get("res.partner").id,
        "system_ids": [(6, 0, system.ids)],
        "line_ids": [(0, 0, {"line_type": "field", "value": "email", "name": "email"})],
    })
    synchronized = timed_writes("s")
    result = {
        "write_unsynchronized_per_s": round(N / unsynchronized),
        "write_synchronized_per_s": round(N / synchronized),
        "write_overhead_pct": round((synchronized / unsynchronized - 1) * 100, 1),
    }
env.cr.rollback()
