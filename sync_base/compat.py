"""What differs between the Odoo series the suite runs on: 18.0 and 19.0.

Every difference of Odoo's Python API the suite meets lives here, once, with
the series that needs each branch; the rest of the code base calls these
names and never tests the version itself.  Data that no data file can
state on both series (the groups' category or privilege, a group's users, an
action's groups) is written by small model methods that data files call
(``res.groups._sync_place_groups``, ``ir.actions.server._sync_restrict_to_group``),
which use the names here.

When a new series comes, this module is where it goes.
"""

from odoo import models, release
from odoo.tools.cache import get_cache_key_counter

#: the major version of the running Odoo: 18 or 19
SERIES = release.version_info[0]

#: ``res.users``' groups, and the groups of actions (``ir.actions.*``): ``groups_id`` on 18.0, ``group_ids`` since 19.0
GROUP_IDS = "group_ids" if SERIES >= 19 else "groups_id"

#: ``res.groups``' users: ``users`` on 18.0, ``user_ids`` since 19.0
USER_IDS = "user_ids" if SERIES >= 19 else "users"


def all_groups(user):
    """Every group ``user`` is in, the implied ones included.

    18.0: ``groups_id`` holds them all; 19.0: ``group_ids`` holds the groups
    given, ``all_group_ids`` adds the implied ones."""
    return user.all_group_ids if SERIES >= 19 else user.groups_id


def group_users(group):
    """Every user in ``group``, those who are in it through an implying group included.

    18.0: ``users``; 19.0: ``user_ids`` holds those given the group,
    ``all_user_ids`` adds the others."""
    return group.all_user_ids if SERIES >= 19 else group.users


def declare_constraints(namespace, constraints):
    """Declare the SQL constraints ``(name, definition, message)`` in a model's class body.

    Call it as ``declare_constraints(locals(), [...])`` from the class body:
    18.0 reads the ``_sql_constraints`` list; 19.0 ignores that list (it only
    logs a warning and creates nothing) and reads one ``models.Constraint``
    attribute per constraint, named ``_<name>``.  Both create the constraint
    ``<table>_<name>``, so a database keeps its constraints across the
    series.  The class body's ``locals()`` is the namespace the class is
    built from, so what is set here is what Odoo sees.
    """
    if SERIES >= 19:
        for name, definition, message in constraints:
            namespace[f"_{name}"] = models.Constraint(definition, message)
    else:
        namespace["_sql_constraints"] = list(constraints)


def ormcache_entry(bound_method):
    """``(cache, key)`` of the argument-less ormcache'd ``bound_method``: its entry is ``cache[key]``.

    Reading the entry directly saves the decorated call's cost where it runs
    on every write of every model.  18.0 and 19.0 keep their caches in
    different structures; ``get_cache_key_counter`` finds them on both."""
    cache, key, _counter = get_cache_key_counter(bound_method)
    return cache, key


def ormcache_compute(bound_method):
    """The value of the ormcache'd ``bound_method`` computed afresh, neither read from nor stored in the cache."""
    return bound_method.__cache__.method(bound_method.__self__)


def cached_values(records, field):
    """The values of ``field`` in the cache for ``records``, in order, up to the first record not cached.

    18.0: ``env.cache.get_until_miss``; 19.0 deprecates it (a warning on every
    call) for the field's own cache."""
    if SERIES >= 19:
        field_cache = field._get_cache(records.env)
        values = []
        for record_id in records._ids:
            try:
                values.append(field_cache[record_id])
            except KeyError:
                break
        return values
    return records.env.cache.get_until_miss(records, field)


def cron_progress(env, done, remaining):
    """Report a scheduler's progress to Odoo's cron runner (which runs it again while ``remaining``).

    18.0: ``ir.cron._notify_progress``.  19.0 deprecates it (a warning with
    its stack on every call) for ``_commit_progress``, which commits the
    transaction; the suite's schedulers leave their commits to the cron
    runner (a batch either lands whole or not at all), so on 19.0 the
    progress record is written as ``_notify_progress`` writes it, and
    nothing is committed."""
    if SERIES < 19:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return
    progress_id = env.context.get("ir_cron_progress_id")
    if progress_id:
        env["ir.cron.progress"].sudo().browse(progress_id).write({"done": done, "remaining": remaining})
