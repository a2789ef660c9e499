from odoo import _, models

from ..lib.results import TransportResult  # noqa: F401  (re-exported for transports)


class SyncTransport(models.AbstractModel):
    """The extension point of transports.

    A transport addon adds a value to ``sync.system.transport`` with
    ``selection_add`` and ``_inherit``s this model, overriding the hooks below
    for its own systems and calling ``super()`` for the others::

        class SyncTransport(models.AbstractModel):
            _inherit = "sync.transport"

            def _send(self, system, envelopes):
                if system.transport != "mine":
                    return super()._send(system, envelopes)
                ...
                return [TransportResult.acknowledged() for _e in envelopes]

    The hooks never change message states: the queue owns them.  They raise
    only for programming errors; an unreachable or refusing receiver is a
    ``transient`` or ``permanent`` result.
    """

    _name = "sync.transport"
    _description = "Synchronization Transport Interface"

    def _missing_hook(self, system, hook):
        transport = system.transport or _("(none)")
        return NotImplementedError(
            _(
                "The transport %(transport)s of system %(system)s does not implement "
                "the hook sync.transport.%(hook)s(); install or fix its transport addon.",
                transport=transport,
                system=system.display_name,
                hook=hook,
            )
        )

    def _send(self, system, envelopes):
        """Deliver ``envelopes`` (a list of envelope dicts) to ``system``.

        Override to implement a transport.  Return a list of
        :class:`~odoo.addons.sync_base.lib.results.TransportResult`, one per
        envelope and in the same order.  Honour ``system.timeout`` on every
        network call, and never log credentials.
        """
        raise self._missing_hook(system, "_send")

    def _send_deferred(self, system, envelopes):
        """Prepare the delivery of ``envelopes`` and return what does its network part, or None.

        Override when a transport spends its time waiting on the network: do
        here whatever needs the database (the ORM is not thread-safe) and
        return a callable without arguments that delivers and returns the
        results as :meth:`_send` would, touching neither ``self.env`` nor any
        record.  The queue runs it in a worker thread while it prepares the
        next batch.  The default, None, has the queue call :meth:`_send`.
        """

    def _ping(self, system):
        """Check that ``system`` is reachable and accepts our credentials.

        Override to implement a transport.  Return a short human-readable
        text describing what was checked; raise
        :class:`~odoo.exceptions.UserError` with a clear message when a
        check fails.
        """
        raise self._missing_hook(system, "_ping")

    # ------------------------------------------------------------------
    # Reconciliation (optional): comparing what was sent with what is there
    # ------------------------------------------------------------------
    def _compare_unsupported(self, system):
        """Why ``system`` cannot compare its records with the other side, as a sentence, or None when it can.

        Override to return None for the systems whose transport implements
        :meth:`_compare_records`.  The default says the transport cannot
        compare; the UI shows that sentence instead of comparing.
        """
        return _(
            "The transport %(transport)s of %(system)s cannot compare records with the other side.",
            transport=system.transport or _("(none)"), system=system.display_name,
        )

    def _compare_records(self, system, data_type, items):
        """Look up the counterparts of records of ``data_type`` on ``system``; ``{res_id: (exists, remote_ref, diff)}``.

        Override to implement comparing.  ``items`` is ``{res_id: document or
        None}``: the document the data type would send now, or None for a
        record not sent any more (gone here, or out of scope), of which only
        whether the other side still holds it matters.  For each id return
        ``(exists, remote_ref, diff)``: whether the other side holds the
        record's counterpart, its reference there (or None), and the
        differences (``sync_queue.lib.compare.diff``: ``[]`` in step, None for
        a record not there).  When the other side holds the counterpart but
        cannot say what it is (its document does not build), return
        ``(None, remote_ref, "why")``: the record is shown as not comparable,
        with that reason.  Read only; honour ``system.timeout``; raise
        :class:`~odoo.exceptions.UserError` when the other side cannot be
        asked (the comparison stops, saying why, and can be resumed).
        """
        raise self._missing_hook(system, "_compare_records")

    def _compare_remote_model(self, system, data_type):
        """The model ``system`` keeps ``data_type``'s records in, as its bindings name it.

        Override when a transport sends to another model than the data
        type's (the RPC transport's plain mode with a remote model).  A
        repair binds what it deletes there under this name."""
        return data_type.model_name

    def _compare_holdings(self, system, data_type, after, limit):
        """A page of what the other side holds of ``data_type``'s records, under this database's identifiers.

        Override when the transport can list it: return ``(rows, next)``,
        ``rows`` a list of ``(res_id, remote_ref)`` (local ids, at most
        about ``limit``) of the page after the cursor ``after`` (0 for the
        first page), ``next`` the cursor of the following page (an integer of
        the transport's choosing), or None at the end.  The default, None, says that the
        transport cannot list: a comparison then finds records that are only
        there through the bindings kept here.
        """
        return

    def _targets(self, system):
        """Return the list of codes that ``system``'s envelopes are addressed to.

        Override when a transport delivers to several downstream codes (a
        broker); the default is the system's own code.
        """
        return [system.code]
