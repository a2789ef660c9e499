{
    "name": "Bench: a queue_job connector",
    "summary": "Partners pushed to another Odoo over JSON-RPC by queue_job jobs, as an integrator writes it "
    "(bench/run.py --only peers)",
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["queue_job"],
    "external_dependencies": {"python": ["requests"]},
}
