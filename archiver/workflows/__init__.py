"""One workflow per command: each module composes the packages below it for one command,
exposes one public function returning a typed (frozen dataclass) result, and is the only
place that records runs in the ledger. Workflow modules do not import each other."""
