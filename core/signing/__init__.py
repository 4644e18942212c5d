"""Signed evidence: the installation key (keys), each completed scan's signed record (record),
checking it (verify, digests) and exporting it for checking elsewhere (export)."""
