"""Scenario code run inside the benchmark database: documents serialized per second.

Executed by ``bench/run.py`` through the harness's shell runner (``env`` is bound).
"""

import time

GROUP_IDS = GROUP_IDS  # noqa: F821, PLW0127 - bound by the shell runner (its name differs by series)

N_PARTNERS = 10_000
N_LINES = 20
PARTNER_FIELDS = ["name", "email", "phone", "street", "street2", "city", "zip", "website", "function", "ref",
                  "comment", "is_company", "color", "active", "type"]

env = env  # noqa: F821, PLW0127 - bound by the shell runner
Library = env["sync.library"]
library = Library.create({"name": "Bench", "slug": "bench"})
Partner = env["res.partner"]


def data_type(name, model, lines):
    dt = env["sync.data.type"].create({
        "name": name, "library_id": library.id, "model_id": env["ir.model"]._get(model).id,
        "line_ids": [(0, 0, {"line_type": t, "value": v, "name": p, **(x[0] if x else {})}) for t, v, p, *x in lines],
    })
    dt.action_generate_schema()
    return dt


flat = data_type("Partners", "res.partner", [("field", f, f) for f in PARTNER_FIELDS])
partners = Partner.create([
    {"name": f"Bench {i}", "email": f"bench{i}@example.com", "phone": f"+32 2 {i:06d}", "street": f"{i} Main St",
     "city": "Brussels", "zip": "1000", "website": "https://example.com", "function": "Buyer", "ref": f"B{i}",
     "comment": "<p>note</p>", "color": i % 10}
    for i in range(N_PARTNERS)
])
env.flush_all()
partners.invalidate_recordset()
t0 = time.perf_counter()
documents = flat._serialize(partners)
flat_seconds = time.perf_counter() - t0
assert len(documents) == N_PARTNERS

# the same data type owned by a Synchronization manager: what it sends is bound by what he may read (record
# rules checked once per batch), measured side by side with the superuser's own
manager = env["res.users"].create({
    "name": "Bench manager", "login": "bench_manager",
    GROUP_IDS: [(6, 0, [env.ref("base.group_user").id, env.ref("sync_base.group_sync_manager").id])],
})
owned = flat.copy({"name": "Partners (owned)"})
owned.sudo().write({"owner_id": manager.id})
partners.invalidate_recordset()
t0 = time.perf_counter()
owned_documents = owned.sudo()._serialize(partners)
owned_seconds = time.perf_counter() - t0
assert owned_documents == documents

# a document with 20 nested lines: a company embedding 20 contacts
contact = data_type("Contacts", "res.partner", [("field", f, f) for f in PARTNER_FIELDS[:8]])
company_type = data_type("Companies", "res.partner", [("field", "name", "name"), ("field", "email", "email"),
                                                      ("model", "child_ids", "contacts", {"reference_id": contact.id})])
companies = Partner.create([{"name": f"Co {i}", "is_company": True} for i in range(200)])
Partner.create([{"name": f"Co {i} contact {j}", "parent_id": c.id, "email": f"c{i}.{j}@example.com"}
                for i, c in enumerate(companies) for j in range(N_LINES)])
env.flush_all()
companies.invalidate_recordset()
t0 = time.perf_counter()
nested = company_type._serialize(companies)
nested_seconds = time.perf_counter() - t0
assert all(len(doc["contacts"]) == N_LINES for doc in nested)

result = {
    "serialize_flat_docs_per_s": round(N_PARTNERS / flat_seconds),
    "serialize_flat_properties": len(PARTNER_FIELDS),
    "serialize_flat_owner_bound_docs_per_s": round(N_PARTNERS / owned_seconds),
    "serialize_nested_docs_per_s": round(len(companies) / nested_seconds),
    "serialize_nested_lines": N_LINES,
}
env.cr.rollback()
