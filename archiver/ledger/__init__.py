"""The audit ledger: a hash-chained SQLite store of runs, outcomes and deposits; PREMIS export."""
