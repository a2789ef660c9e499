"""Run Python code inside an Odoo database, as ``odoo-bin shell`` does, and print a JSON result.

Usage: ``python shell_runner.py <odoo args...> < code.py`` runs one scenario
and exits; ``python shell_runner.py --serve <odoo args...>`` loads the
registry once and then runs each scenario it reads on stdin (one JSON line
``{"code": ...}`` each), so that a test's tenth scenario does not pay for
starting Odoo ten times.  The code gets ``env`` (superuser), ``GROUP_IDS``
and ``USER_IDS`` (the names of a user's groups and a group's users, which
differ by series) and may set ``result`` to any JSON-serializable value.
The transaction is committed when the code returns.  Between scenarios the
server holds no connection to the database (it can be copied or dropped),
and each scenario starts from the registry as other processes left it
(Odoo's registry signaling).  Used by the end-to-end harness; it runs in its
own process so that a test process never imports Odoo.
"""

import json
import sys
import traceback

MARKER = "@@SYNC_RESULT@@"


def _load(argv):
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
    return odoo, dbname


def _run(odoo, dbname, code):
    registry = odoo.modules.registry.Registry(dbname).check_signaling()
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            # the field names that differ by series, for scenarios that run on 18.0 and 19.0
            series = odoo.release.version_info[0]
            namespace = {"env": env, "odoo": odoo, "result": None,
                         "GROUP_IDS": "group_ids" if series >= 19 else "groups_id",
                         "USER_IDS": "user_ids" if series >= 19 else "users"}
            exec(compile(code, "<scenario>", "exec"), namespace)  # noqa: S102 - test scenario code
            env.flush_all()
    except BaseException:
        registry.reset_changes()  # rolled back: nothing to tell the other processes, nothing to keep here
        raise
    # as a server does after a request: the other processes (the servers of the test) learn what changed
    registry.signal_changes()
    return namespace["result"]


def main(argv):
    if argv[:1] != ["--serve"]:
        odoo, dbname = _load(argv)
        result = _run(odoo, dbname, sys.stdin.read())
        sys.stdout.write(MARKER + json.dumps(result, default=str) + "\n")
        sys.stdout.flush()
        return
    odoo, dbname = _load(argv[1:])
    import odoo.sql_db

    for line in sys.stdin:
        try:
            answer = {"result": _run(odoo, dbname, json.loads(line)["code"])}
        except BaseException:
            answer = {"error": traceback.format_exc()}
        finally:
            # no idle connection: the database may be copied or dropped between scenarios
            odoo.sql_db.close_db(dbname)
        sys.stdout.write(MARKER + json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
