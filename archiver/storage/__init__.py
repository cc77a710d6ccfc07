"""Storage and process I/O below the BagIt engine: atomic writes, durable renames, bounded
reads and output-path checks (``fileio``), page-cache hygiene (``pagecache``), libc calls
(``libc``) and worker processes (``workers``). Imports only ``archiver.model``."""
