"""Scenario code (bench/run.py ``compare --compare-seed sql``), on a target: the N partners the source would
have sent, as sending them makes them (same values), without sending; bench/run.py binds them by SQL.

N is prepended by bench/run.py.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Partner = env["res.partner"]
for start in range(0, N, 5000):  # noqa: F821
    Partner.create([{"name": f"Compared {i}", "ref": f"CMPB-{i:06d}", "email": f"p{i}@compare.example"}
                    for i in range(start, min(start + 5000, N))])  # noqa: F821
    env.cr.commit()  # noqa: E8102 - in transactions of their own
    env.invalidate_all()
if "sync.change" in env:  # a suite: what it captured of them is not to be sent anywhere
    env.cr.execute("DELETE FROM sync_change WHERE model = 'res.partner'")
result = Partner.search_count([("ref", "like", "CMPB-")])
