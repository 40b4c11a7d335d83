"""Example apps built on the package (each folder has a README)."""
