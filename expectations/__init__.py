"""The validation suites; shipped inside the package as ypsi_audit.expectations (see setup.py)."""
