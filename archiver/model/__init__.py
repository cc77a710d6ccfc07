"""The shared vocabulary every other part of archiver speaks, and that imports nothing else
of archiver: errors, findings and their kinds, digests and the algorithm list, run
reports, ledger records, characterization records, bag identity, storage locations, text
helpers and the clock. Nothing here touches a file system beyond what it is handed."""
