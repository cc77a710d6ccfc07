"""The HTML collection report: the state of a collection at a glance, from the ledger.

``model`` builds the page's data from ledger records (pure), ``charts`` lays out its
inline SVG charts (pure), ``collect`` reads the ledger and the bags' titles (I/O) and
``render`` fills the Jinja2 templates (package data under ``templates/``).
"""
