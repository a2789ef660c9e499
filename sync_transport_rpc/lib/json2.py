"""Odoo 19's JSON-2 API as the RPC transport speaks it; nothing here imports odoo.

``POST /json/2/<model>/<method>`` with the API key as a bearer token and the
database in ``X-Odoo-Database``; the body holds the record ids (``ids``),
the ``context`` and the method's arguments *by name*: JSON-2 has no
positional arguments.  The suite calls ``execute(model, method, *args,
**kwargs)`` as over XML-RPC and JSON-RPC, so the positional arguments of the
methods it calls are named here, once.  Odoo 19 deprecates ``/xmlrpc/2`` and
``/jsonrpc`` for this API (a warning on every call; removal announced for
Odoo 22).
"""

__all__ = ["JSON2_PARAMETERS", "RECORD_METHODS", "json2_body", "json2_error"]

#: the names of the positional arguments of the model methods the suite calls, as Odoo 19 declares them
JSON2_PARAMETERS = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "load": ("fields", "data"),
    "create": ("vals_list",),
    "read": ("fields", "load"),
    "write": ("vals",),
    "exists": (),
    "unlink": (),
    "get_metadata": (),
    "context_get": (),
}
#: methods on records: their first positional argument is the ids
RECORD_METHODS = frozenset({"read", "write", "exists", "unlink", "get_metadata"})


class Json2CallError(ValueError):
    """A call this client cannot put into JSON-2's named arguments."""


def json2_body(model, method, args, kwargs):
    """The JSON body of ``model.method(*args, **kwargs)`` over JSON-2.

    Raises :class:`Json2CallError` for positional arguments of a method not
    in :data:`JSON2_PARAMETERS`, or more of them than it takes."""
    args = list(args)
    body = {}
    if method in RECORD_METHODS:
        body["ids"] = list(args.pop(0)) if args else []
    names = JSON2_PARAMETERS.get(method)
    if args and names is None:
        raise Json2CallError(f"{model}.{method}: JSON-2 takes arguments by name only, and this client does not know "
                             "the names of this method's arguments")
    if len(args) > len(names or ()):
        raise Json2CallError(f"{model}.{method} takes at most {len(names or ())} positional arguments "
                             f"({', '.join(names or ()) or 'none'}), got {len(args)}")
    body.update(zip(names or (), args, strict=False))
    for name, value in kwargs.items():
        if name in body:
            raise Json2CallError(f"{model}.{method} got {name} twice")
        body[name] = value
    return body


def json2_error(status, body):
    """``(name, message)`` of an error answer of JSON-2 (``status`` not 200, ``body`` its decoded JSON or None).

    Odoo answers an error as ``{"name": "odoo.exceptions.AccessError",
    "message": ..., "arguments": ..., "debug": <traceback>}``; the traceback
    is never kept."""
    if isinstance(body, dict):
        name = str(body.get("name") or "")
        message = str(body.get("message") or "")
        return name, message or f"HTTP {status}"
    return "", f"HTTP {status}"
