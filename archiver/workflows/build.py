"""Building bags (``archiver build``): the archive's settings, the clock and the catalog
composed into one build run of ``archiver.build.collection``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from archiver.build.collection import BuildOutcome, BuildReport, build_collection
from archiver.config import load_config
from archiver.model.clock import clock_from_environment


def build_bags(
    *,
    config_path: Path,
    catalog_path: Path,
    out_dir: Path,
    sources: Sequence[Path] = (),
    replace: bool = False,
    on_outcome: Callable[[BuildOutcome], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BuildReport:
    """Build one bag per source (default: every file beside the catalog) into ``out_dir``.

    The settings are read from ``config_path`` (ConfigError if they are wrong), the clock
    from ``environ`` (default: this process's environment; SOURCE_DATE_EPOCH freezes it).
    ``on_outcome`` hears each source's outcome as it is known, in source order. A failed
    source is a ``failed`` outcome and the others are still built; problems with the
    catalog or the output directory raise ArchiverError.
    """
    config = load_config(config_path)
    clock = clock_from_environment(os.environ if environ is None else environ)
    return build_collection(
        config=config,
        catalog_path=catalog_path,
        out_dir=out_dir,
        sources=sources,
        clock=clock,
        replace=replace,
        on_outcome=on_outcome,
    )
