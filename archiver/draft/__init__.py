"""Drafting a statement's catalog row from its text (``archiver describe --draft``).

``engine.Drafter`` loads the resources once (lingua's language models, pymorphy3's
Russian dictionaries, the gazetteer) and drafts each text with the extractors of
``text``, ``title``, ``dates``, ``creators``, ``places``, ``language`` and ``genre``; every value
comes with its evidence (``evidence``). ``scoring`` scores drafts against expected rows,
``row`` lays a draft out in the catalog's columns. Needs the ``describe`` extra; nothing
here is imported by archiver unless ``--draft`` is asked for.
"""
