"""Signing scans: the installation key (keys), each completed scan's signed record (record)
and the sha256s of evidence files (digests). Checking and exporting signed scans, which read
results, live in core/results (verification.py, signed_export.py)."""
