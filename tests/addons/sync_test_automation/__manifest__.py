{
    "name": "Synchronization Test: Automation Rules",
    "summary": "Tests that saving an automation rule leaves the suite's capture working",
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "maintainers": ["sync-suite"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["sync_queue", "sync_test_transport", "base_automation"],
    "data": [],
}
