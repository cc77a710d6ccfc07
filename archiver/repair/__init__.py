"""Heal damaged bags from verified replicas (``archiver repair``, ``audit --repair``).

``replicas`` reads copies (directory, serialized bag, OCFL, S3, file://) behind one
protocol; ``plan`` is the pure part (what to restore, the records); ``apply`` does the
I/O (verified copies, atomic replacement, quarantine); ``workflow`` repairs one bag under
its lock; ``events`` turns a repair into ledger events; ``run`` repairs several bags and
shapes the ledger run (``archiver.workflows.repair`` records it).
"""
