"""Pull: read what changed on a plain remote Odoo since a watermark.  Nothing here imports odoo.

The watermark is a :class:`Cursor`: a second of the remote's ``write_date``
(its API gives no finer: ``search_read`` returns ``write_date`` truncated to
the second, while its domains compare the full value) and the last id read
in that second.  A page reads the rest of the cursor's second by id, then
what follows by ``write_date``; every second it leaves behind has been read
whole, so the next page never misses a record, however many share a second
(a bulk import writes thousands in one).

A remote transaction that commits late carries an earlier ``write_date``
than what has been read already.  Once a run has caught up, the next one
starts again ``overlap`` seconds back: what it reads twice is applied twice,
which changes nothing, since applying a document writes only what differs.
"""

import datetime

__all__ = ["Cursor", "document", "parse_second", "read_page", "remote_gone", "start_cursor"]

FORMAT = "%Y-%m-%d %H:%M:%S"
SECOND = datetime.timedelta(seconds=1)


def parse_second(text):
    """The second of an Odoo ``write_date`` string (``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    if not text:
        return None
    return datetime.datetime.strptime(text[:19], FORMAT)


class Cursor:
    """How far a pull has read: ``second`` (naive UTC datetime, or None: nothing yet) and ``last_id``."""

    __slots__ = ("last_id", "second")

    def __init__(self, second=None, last_id=0):
        self.second = second.replace(microsecond=0) if second else None
        self.last_id = last_id or 0

    def __eq__(self, other):
        return isinstance(other, Cursor) and (self.second, self.last_id) == (other.second, other.last_id)

    def __hash__(self):
        return hash((self.second, self.last_id))

    def __repr__(self):
        return f"Cursor({self.second!r}, {self.last_id!r})"

    @property
    def key(self):
        """For comparisons: nothing read sorts first."""
        return (self.second or datetime.datetime.min, self.last_id)


def start_cursor(cursor, caught_up, overlap_seconds):
    """Where a run starts: back by the overlap window after a run that caught up, else where the last page ended."""
    if cursor.second is None or not caught_up:
        return cursor
    return Cursor(cursor.second - datetime.timedelta(seconds=max(overlap_seconds, 0)), 0)


def read_page(client, model, fields, domain, cursor, limit, context=None):
    """Read up to ``limit`` records of ``model`` changed at or after ``cursor``; ``(rows, next cursor, caught up)``.

    ``rows`` are ``search_read`` dicts with ``id`` and ``write_date``; the
    same record may come twice in one page.  ``caught_up`` says that
    everything changed until the read was read.
    """
    if limit < 1:
        raise ValueError("a page reads at least one record")
    fields = sorted({*fields, "write_date"})
    context = dict(context or {}, active_test=False)
    rows = []
    after = None
    if cursor.second is not None:
        second = cursor.second.strftime(FORMAT)
        following = (cursor.second + SECOND).strftime(FORMAT)
        rest = client.execute(
            model, "search_read",
            [*domain, ("write_date", ">=", second), ("write_date", "<", following), ("id", ">", cursor.last_id)],
            fields=fields, order="id", limit=limit, context=context,
        )
        if len(rest) == limit:
            return rest, Cursor(cursor.second, rest[-1]["id"]), False
        rows.extend(rest)
        after = following
    room = limit - len(rows)
    later = client.execute(
        model, "search_read", [*domain, *([("write_date", ">=", after)] if after else [])],
        fields=fields, order="write_date, id", limit=room, context=context,
    )
    rows.extend(later)
    if len(later) == room:
        # the last second read may go on past the page: the next page reads it again, by id
        return rows, Cursor(parse_second(later[-1]["write_date"]), 0), False
    last = cursor
    for row in rows:
        second = parse_second(row["write_date"])
        if second and (last.second is None or (second, row["id"]) > (last.second, last.last_id)):
            last = Cursor(second, row["id"])
    return rows, last, True


def document(row, specs, convert, reference):
    """The document of one remote ``row``.

    ``specs``: ``(property, kind, remote type)``, kind ``field`` or
    ``reference``; ``convert(remote type, value)`` turns a read value into
    its JSON form; ``reference(property, remote id, display name)`` the
    reference object of a related record.
    """
    doc = {}
    for prop, kind, remote_type in specs:
        value = row.get(prop)
        if kind == "field":
            doc[prop] = convert(remote_type, value)
        elif remote_type == "many2one":
            doc[prop] = reference(prop, value[0], value[1]) if value else None
        else:
            doc[prop] = [reference(prop, remote_id, None) for remote_id in value or []]
    return doc


def remote_gone(client, model, ids, access_error):
    """The ``ids`` of ``model`` that no longer exist on the remote: deleted, not merely hidden from its user.

    ``exists()`` said so in one call, but Odoo 19 refuses it over RPC (a
    private method there), and a remote may be either series.  ``search``
    misses the records the remote user's record rules hide, which are not
    deleted: a sweep must never delete here what was only hidden there.  So
    what ``search`` does not find is read (a stored field: ``read`` leaves
    out the records that do not exist and refuses, with an access error,
    records it may not see), one by one when the batch is refused, and only
    what is neither found nor refused is gone.  ``access_error(exc)`` says
    whether an error of the client is the remote's refusal to read."""
    if not ids:
        return set()
    ids = list(ids)
    context = {"active_test": False}
    found = set(client.execute(model, "search", [("id", "in", ids)], context=context))
    unseen = [remote_id for remote_id in ids if remote_id not in found]
    if not unseen:
        return set()
    try:
        rows = client.execute(model, "read", unseen, ["create_date"], context=context)
        return set(unseen) - {row["id"] for row in rows}
    except Exception as exc:
        if not access_error(exc):
            raise
    gone = set()
    for remote_id in unseen:
        try:
            if not client.execute(model, "read", [remote_id], ["create_date"], context=context):
                gone.add(remote_id)
        except Exception as exc:
            if not access_error(exc):
                raise
    return gone
