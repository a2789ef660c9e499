{
    "name": "Synchronization Transport: Odoo RPC",
    "summary": "Synchronize with another Odoo over XML-RPC or JSON-RPC, push and pull",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "maintainers": ["sync-suite"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["sync_queue"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "views/sync_system_views.xml",
        "views/sync_data_type_views.xml",
    ],
}
