"""The run command's decisions, pure: the demo databases' names and protocol for the series in play, may a demo
database be reused, do Odoo's cron workers process it, and why did a run create no message.  Nothing here touches a
database or a process; tools/run.py gathers the facts."""

import re

UNFINISHED_STATES = ("to install", "to upgrade", "to remove")
# what Odoo 18's cron workers log when they leave a database alone (odoo/addons/base/models/ir_cron.py)
CRON_SKIP_RES = (
    (re.compile(r"Skipping database (?P<db>\S+) because of modules to install/upgrade/remove\."),
     "its modules are left to install, upgrade or remove, or its base module has no installed version"),
    (re.compile(r"Skipping database (?P<db>\S+) as its base version is not (?P<version>\S+?)\.?$", re.MULTILINE),
     "it was made by another version of Odoo than the one serving it"),
    (re.compile(r"Tried to poll an undefined table on database (?P<db>\S+)\."),
     "it lacks Odoo's tables"),
)


def demo_databases(source_series, target_series):
    """The names of the source and the target database of a demo from ``source_series`` to ``target_series``
    ("18.0", "19.0").

    Each pair of series has databases of its own: a database made by one series cannot be loaded by the other
    without a migration, and the source's sync state (its bindings) belongs to its own target.  Between two
    18.0 databases, the names of the runs before series existed, so that their databases are reused.
    """
    source, target = (series.split(".")[0] for series in (source_series, target_series))
    if source == target:
        suffix = "" if source == "18" else f"_{source}"
    else:
        suffix = f"_{source}_to_{target}"
    return f"sync_demo_source{suffix}", f"sync_demo_target{suffix}"


def demo_protocol(target_series):
    """The RPC protocol the source uses to reach a target of ``target_series``: Odoo 19's JSON-2 API (it deprecates
    JSON-RPC and logs every call), JSON-RPC before it (no JSON-2 there)."""
    return "json2" if int(target_series.split(".")[0]) >= 19 else "jsonrpc"


def database_problem(modules, required, series=None):
    """Why a database cannot be reused, or None.

    ``modules``: ``{module name: (state, latest_version)}`` read from its ``ir_module_module``, or None when it has
    no such table (not an Odoo database); ``required``: the modules that must be installed in it; ``series``: the
    series that is to serve it ("19.0"), when known.
    """
    if modules is None:
        return "it is not an Odoo database"
    state, version = modules.get("base", (None, None))
    if state != "installed" or not version:
        return "its base module has no installed version (an installation that did not finish)"
    made_by = ".".join(version.split(".")[:2])
    if series and made_by != series:
        # Odoo refuses to load it (its cron workers skip it, its registry would need a migration)
        return f"it was made by Odoo {made_by} (base {version}) and Odoo {series} is to serve it: a database " \
               "moves to another series only by a migration"
    unfinished = sorted(name for name, (state, _version) in modules.items() if state in UNFINISHED_STATES)
    if unfinished:
        shown = ", ".join(unfinished[:5]) + (f" and {len(unfinished) - 5} more" if len(unfinished) > 5 else "")
        return f"modules are left to install, upgrade or remove ({shown}): an installation or update that did not " \
               "finish"
    absent = [name for name in required if modules.get(name, (None, None))[0] != "installed"]
    if absent:
        return f"the suite is not installed in it ({', '.join(absent)} missing)"
    return None


def cron_problem(log_text, dbname):
    """Why Odoo's cron workers skip ``dbname``, read from a server's log, or None."""
    for pattern, reason in CRON_SKIP_RES:
        for match in pattern.finditer(log_text):
            if match.group("db") == dbname:
                return f"Odoo's cron workers skip {dbname}: {reason} (the server logged: {match.group(0).strip()})"
    return None


def why_no_messages(pending_changes, enabled_data_types, cron_ran):
    """Why a run that created records created no message: a sentence for the person who ran it.

    ``pending_changes``: captured changes not turned into messages; ``enabled_data_types``: data types that send;
    ``cron_ran``: whether the queue's scheduler ran since the records were committed.
    """
    if not enabled_data_types:
        return "No message was created: no data type is enabled on the source (Synchronization > Configuration > " \
               "Data Types)."
    if pending_changes and not cron_ran:
        return f"No message was created: {pending_changes} change(s) were captured but the queue's scheduler " \
               "(sync_queue's 'Create the queue' cron) never ran on the source: see the source's log."
    if pending_changes:
        return f"No message was created: {pending_changes} change(s) were captured and the queue's scheduler ran, " \
               "but turned none into a message in time: see the source's log and its Synchronization > Queue."
    return "No message was created: no change of the demo records was captured on the source (are the data " \
           "types' models and triggers the demo's?)."


def databases_to_recreate(problems):
    """Which demo databases to create again, each with the reason to say: ``{dbname: reason}``.

    ``problems``: ``{dbname: None when it is sound and reusable, else why not ("it does not exist", ...)}``.  The
    source and the target know each other's records (bindings, external ids): when one is created again, the other's
    sync state points at records that are gone and its messages would fail for good, so both are created again.
    """
    broken = {dbname: problem for dbname, problem in problems.items() if problem}
    if not broken:
        return {}
    plan = dict(broken)
    for dbname, problem in problems.items():
        if not problem:
            twins = ", ".join(sorted(broken))
            plan[dbname] = f"{twins} is created again, and the sync state of {dbname} (its bindings) points at " \
                           "the records of the old one"
    return plan


def filestore_problem(stored, existing):
    """Why a database's files are gone, or None.

    ``stored``: a sample of its attachments' ``store_fname`` (files in its filestore); ``existing``: those of them
    found in its filestore directory.
    """
    missing = [name for name in stored if name not in existing]
    if not missing:
        return None
    return f"{len(missing)} of {len(stored)} of its stored files checked are missing from its filestore " \
           f"(e.g. {missing[0]}): its filestore was removed or belongs to another database"


def scheduler_problem(rows, dbname):
    """Why the queue's scheduler cannot run in ``dbname``, or None; ``rows``: its ``(id, active)`` found by XML id."""
    if not rows:
        return f"the scheduler of sync_queue ('Create the queue', sync_queue.ir_cron_create_queue) is missing in " \
               f"{dbname}: it was deleted; update sync_queue (odoo -u sync_queue -d {dbname}) or drop the database " \
               "to have it created again"
    if not all(active for _id, active in rows):
        return f"the scheduler of sync_queue ('Create the queue', sync_queue.ir_cron_create_queue) is inactive in " \
               f"{dbname}: nothing is sent while it is; activate it (Settings > Technical > Scheduled Actions)"
    return None
