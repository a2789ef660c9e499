{
    "name": "Synchronization Mappings",
    "summary": "Map Odoo models to JSON schemas: libraries, schemas, data types and the serialize/upsert engine",
    "version": "1.0.0",
    "category": "Technical",
    "website": "https://github.com/sync-suite/sync-suite",
    "author": "Sync Suite contributors",
    "maintainers": ["sync-suite"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "installable": True,
    "depends": ["sync_base"],
    "external_dependencies": {"python": ["jsonschema", "inflect"]},
    "data": [
        "security/ir.model.access.csv",
        "views/sync_library_views.xml",
        "views/sync_schema_views.xml",
        "views/sync_data_type_views.xml",
        "views/sync_mapping_line_views.xml",
        "views/sync_condition_views.xml",
        "wizards/sync_preview_views.xml",
        "wizards/sync_library_import_views.xml",
        "views/sync_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "sync_mapping/static/src/js/*.js",
            "sync_mapping/static/src/xml/*.xml",
        ],
        "web.assets_tests": [
            "sync_mapping/static/tests/tours/*.js",
        ],
    },
}
