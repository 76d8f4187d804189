"""The report notebooks; shipped inside the package as ypsi_audit.notebooks (see setup.py)."""
