"""Scenario code (bench/run.py), on the source: N partners to send, captured in one transaction.

ROUND and N are prepended by bench/run.py; PREFIX (the references, ``RPCB-``) may be.
"""

env = env  # noqa: F821, PLW0127 - bound by the shell runner
PREFIX = globals().get("PREFIX", "RPCB-")
env["res.partner"].create([
    {"name": f"Pushed {ROUND}-{i}", "ref": f"{PREFIX}{ROUND}-{i:05d}", "email": f"p{ROUND}.{i}@push.example"}  # noqa: F821
    for i in range(N)  # noqa: F821
])
result = N  # noqa: F821
