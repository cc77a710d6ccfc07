"""Serialized bags: reproducible tar/zip writing, checksum sidecars and safe unpacking."""
