"""Descriptive and preservation metadata: the catalog, Dublin Core, PREMIS, and schema validation.

The JSON Schemas, the BagIt profile and the vendored XSDs ship as package data in ``schemas/``.
"""
