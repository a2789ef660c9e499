"""A module installed and upgraded by tests/e2e/test_capture_install.py, and by nothing else.

It has no ``__manifest__.py`` here: the test copies it to an addons path of
its own and writes the manifest there, with the version each step needs
(18.0.1.0.0 to install, 18.0.1.0.1 to upgrade and run the migration script).
Without a manifest, the test command and the e2e template leave it alone.
"""
