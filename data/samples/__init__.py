"""The sample log; shipped inside the package as ypsi_audit.samples (see setup.py)."""
