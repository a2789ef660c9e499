"""Scenario code (bench/run.py), on the source: run the schedulers until every message is done, timed.

The queue scheduler and the send scheduler run in two threads of this
process, as Odoo's two default cron workers of a threaded server do, each in
its own transaction, committing after each call as the cron runner does.
"""

import threading
import time

from odoo import SUPERUSER_ID, api

env = env  # noqa: F821, PLW0127 - bound by the shell runner
registry = env.registry
mine = [("system_id.code", "=", globals().get("CODE", "bench_rpc"))]
queueing_done = threading.Event()
errors = []


def queue_worker():
    try:
        with registry.cursor() as cr:
            worker_env = api.Environment(cr, SUPERUSER_ID, {})
            for _round in range(1000):
                worker_env["sync.message"]._cron_create_queue()
                cr.commit()
                cr.execute("SELECT count(*) FROM sync_change")
                if not cr.fetchone()[0]:
                    break
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        errors.append(exc)
    finally:
        queueing_done.set()


def send_worker():
    try:
        with registry.cursor() as cr:
            worker_env = api.Environment(cr, SUPERUSER_ID, {})
            Message = worker_env["sync.message"]
            for _round in range(10000):
                finished = queueing_done.is_set()
                Message._cron_send()
                cr.commit()
                if finished and not Message.search_count([("state", "not in", ("done", "failed", "cancelled")),
                                                          *mine]):
                    break
                if not finished:
                    time.sleep(0.01)  # a cron worker waits for its trigger
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        errors.append(exc)


# a running server's sender keeps its connection, its login and the remote's field list on the transport's
# pooled client; this process is new: they are fetched before the clock starts (as bench_latency's warm-up
# sends do), so that the figure is the push's, not a cold start's
warm = env["sync.system"].search([("code", "=", globals().get("CODE", "bench_rpc"))])
if warm.transport == "rpc" and warm.rpc_mode == "plain":
    from odoo.addons.sync_transport_rpc.lib import plain

    env["sync.transport"]._ping(warm)
    for data_type in env["sync.data.type"].search([("system_ids", "in", warm.ids)]):
        plain._fields(warm._rpc_client(), data_type.remote_model or data_type.model_name)
env.cr.commit()  # noqa: E8102 - the workers start from a fresh snapshot

started, cpu = time.perf_counter(), time.process_time()
threads = [threading.Thread(target=queue_worker), threading.Thread(target=send_worker)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
if errors:
    raise errors[0]
env.cr.rollback()  # a new snapshot, that sees what the workers committed
states = dict(env["sync.message"]._read_group(mine, ["state"], ["__count"]))
# this process's CPU time, all threads: the schedulers and the transport's delivery threads
result = {"seconds": elapsed, "states": states, "cpu_s": cpu}
