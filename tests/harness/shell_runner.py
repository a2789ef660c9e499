"""Run Python code inside an Odoo database, as ``odoo-bin shell`` does, and print a JSON result.

Usage: ``python shell_runner.py <odoo args...> < code.py``.  The code gets
``env`` (superuser), ``GROUP_IDS`` and ``USER_IDS`` (the names of a user's
groups and a group's users, which differ by series) and may set ``result``
to any JSON-serializable value.
The transaction is committed when the code returns.  Used by the end-to-end
harness; it runs in its own process so that a test process never imports Odoo.
"""

import json
import sys

MARKER = "@@SYNC_RESULT@@"


def main(argv):
    import odoo
    import odoo.api
    import odoo.modules.registry
    import odoo.release
    import odoo.service.server  # 19.0 no longer imports its subpackages with odoo
    from odoo.tools import config

    config.parse_config(argv)
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    odoo.service.server.load_server_wide_modules()
    registry = odoo.modules.registry.Registry(dbname)
    code = sys.stdin.read()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        # the field names that differ by series, for scenarios that run on 18.0 and 19.0
        series = odoo.release.version_info[0]
        namespace = {"env": env, "odoo": odoo, "result": None,
                     "GROUP_IDS": "group_ids" if series >= 19 else "groups_id",
                     "USER_IDS": "user_ids" if series >= 19 else "users"}
        exec(compile(code, "<scenario>", "exec"), namespace)  # noqa: S102 - test scenario code
        env.flush_all()
    sys.stdout.write(MARKER + json.dumps(namespace["result"], default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
