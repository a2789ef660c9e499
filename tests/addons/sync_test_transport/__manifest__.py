{
    "name": "Synchronization Test Transport",
    "summary": "A transport that exists only for the tests of the synchronization suite",
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "maintainers": ["sync-suite"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["sync_base"],
    "data": [
        "security/ir.model.access.csv",
        "views/sync_system_views.xml",
    ],
}
