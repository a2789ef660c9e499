{
    "name": "Synchronization Transport: WSO2",
    "summary": "Send messages through a WSO2 integration broker over HTTP",
    "version": "1.0.0",
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
    ],
}
