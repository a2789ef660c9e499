{
    "name": "Synchronization Test: Faults",
    "summary": "Kills the sending server at precise points of a batch, and slows the receiving endpoint, for the "
    "fault tests of the synchronization suite",
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "maintainers": ["sync-suite"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["sync_queue"],
    "data": [],
}
