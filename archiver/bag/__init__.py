"""BagIt itself (RFC 8493): tag-file parsing and rendering and the validator engine (findings
and digests are the shared vocabulary of ``archiver.model``).

Pure of archiver policy: nothing here knows our profile or metadata records.
"""
