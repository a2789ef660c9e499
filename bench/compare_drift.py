"""Scenario code (bench/run.py ``compare``), on a target: drift made by SQL, behind the suite's back: the email
of every hundredth compared partner (1 %) changed; the result is how many."""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env.cr.execute("UPDATE res_partner SET email = 'drift.' || id || '@there.example' "
               "WHERE ref LIKE 'CMPB-%' AND substr(ref, 6)::int % 100 = 42")
result = env.cr.rowcount
