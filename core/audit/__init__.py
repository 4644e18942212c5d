"""The action log (issue 27): record() what an operator did (log.py), verify the chain (verify.py)."""
