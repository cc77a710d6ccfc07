"""BagIt itself (RFC 8493): digests, tag-file parsing and rendering, findings, the validator engine.

Pure of archiver policy: nothing here knows our profile or metadata records.
"""
