"""archiver: BagIt preservation packages with Dublin Core and PREMIS 3 metadata."""

__version__ = "0.1.0"
