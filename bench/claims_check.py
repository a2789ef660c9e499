"""Scenario code (bench/run.py): every message sent exactly once."""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
env.cr.execute("SELECT state, count(*), max(attempt_count) FROM sync_message GROUP BY state")
result = [list(row) for row in env.cr.fetchall()]
