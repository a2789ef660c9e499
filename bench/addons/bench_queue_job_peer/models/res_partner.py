"""A connector as integrators write one with queue_job: a changed partner becomes a job that pushes it.

Changed partners are pushed to the Odoo named by the
``bench_queue_job_peer.url``, ``.db``, ``.login`` and ``.key`` parameters
(an API key): those whose reference starts with the
``bench_queue_job_peer.record_prefix`` parameter by one job each
(``with_delay()`` in ``create`` and ``write``, the usual connector), those
whose reference starts with ``bench_queue_job_peer.batch_prefix`` by one job
per 100 changed partners.

A job makes one ``execute_kw`` call: ``res.partner.load()`` with an
external identifier per partner (``bench_qj.res_partner_<id>``), which
creates the partner the first time and updates it afterwards, so that a job
run again (queue_job retries jobs) never duplicates it, and which needs no
search first; the suite's plain mode calls the same method.  The user id
comes from one ``common.login`` per worker process.
"""

import threading

import requests

from odoo import api, models
from odoo.tools import split_every

from odoo.addons.queue_job.exception import RetryableJobError

PARAM = "bench_queue_job_peer."
BATCH_SIZE = 100
TIMEOUT = 60
COLUMNS = ["id", "name", "ref", "email"]
XMLID_MODULE = "bench_qj"

# (url, db, login, key) -> uid, for this process
_uids = {}
_uids_lock = threading.Lock()


class TargetError(Exception):
    """The target refused the call: the job fails, with the target's message."""


def _call(url, service, method, *args):
    """One JSON-RPC call; a target that does not answer is a job to retry later."""
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
               "params": {"service": service, "method": method, "args": args}}
    try:
        response = requests.post(f"{url}/jsonrpc", json=payload, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise RetryableJobError(f"the target did not answer: {exc}") from exc
    if response.status_code >= 500:
        raise RetryableJobError(f"the target answered {response.status_code}")
    response.raise_for_status()
    body = response.json()
    if body.get("error"):
        error = body["error"]
        raise TargetError((error.get("data") or {}).get("message") or error.get("message"))
    return body["result"]


def _uid(url, db, login, key):
    with _uids_lock:
        if (url, db, login, key) not in _uids:
            uid = _call(url, "common", "login", db, login, key)
            if not uid:
                raise TargetError(f"the target refused the login {login!r}")
            _uids[url, db, login, key] = uid
        return _uids[url, db, login, key]


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners._bench_peer_enqueue()
        return partners

    def write(self, vals):
        result = super().write(vals)
        self._bench_peer_enqueue()
        return result

    def _bench_peer_enqueue(self):
        """One job per changed partner of the record prefix, one per ``BATCH_SIZE`` of the batch prefix."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        for mode, size in (("record", 1), ("batch", BATCH_SIZE)):
            prefix = get_param(f"{PARAM}{mode}_prefix")
            if not prefix:
                continue
            ids = [partner.id for partner in self if (partner.ref or "").startswith(prefix)]
            for chunk in split_every(size, ids):
                self.browse(chunk).with_delay()._bench_peer_push()

    def _bench_peer_push(self):
        """Push partners to the target Odoo"""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        url, db, login, key = (get_param(PARAM + name) for name in ("url", "db", "login", "key"))
        rows = [[f"{XMLID_MODULE}.res_partner_{partner.id}", partner.name, partner.ref or "", partner.email or ""]
                for partner in self]
        answer = _call(url, "object", "execute_kw", db, _uid(url, db, login, key), key, "res.partner", "load",
                       [COLUMNS, rows])
        errors = [message.get("message") for message in answer["messages"] if message.get("type") == "error"]
        if errors or len(answer["ids"] or []) != len(rows):
            raise TargetError(f"the target loaded {answer['ids']!r} of {len(rows)} partners: {errors}")
        return f"{len(rows)} partners pushed"
