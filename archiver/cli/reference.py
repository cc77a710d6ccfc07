"""The generated reference: CLI pages, man page and shell completions, from the parser.

``python -m archiver.cli.reference --write`` regenerates every file below from what the
code says now (the parser of ``archiver.cli.build_parser()``, ``KIND_DESCRIPTIONS``, the
JSON Schema of ``archive.toml``, the catalog's known columns); ``--check`` (``make lint``,
``make test``) regenerates them in memory and exits 1 with a diff when a file on disk
differs, like cog's ``--check``. Run from the repository's root (or give ``--root``).

Generated files (whole) and regions (between ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->`` in a hand-written page):

- ``docs/reference/cli.md``: every command, its usage and every option;
- ``docs/man/archiver.1``: the man page, shipped in the wheel as
  ``share/man/man1/archiver.1``;
- ``archiver/cli/completions/archiver.bash`` and ``archiver.zsh``: what ``archiver
  completion bash|zsh`` prints (made with shtab, a test-time dependency only);
- regions ``finding-kinds``, ``archive-toml``, ``catalog-columns`` in ``docs/reference/``.

Everything is rendered from the parser's actions, not from argparse's formatted help,
so the output does not change with the terminal's width or the Python version.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver import __version__
from archiver.cli import build_parser
from archiver.metadata.catalog import DC_ELEMENTS, DCTERMS_TERMS, PREMIS_COLUMNS
from archiver.metadata.dublin_core import REQUIRED_TERMS
from archiver.model.findings import KIND_DESCRIPTIONS

REGENERATE = "python -m archiver.cli.reference --write"
SCHEMA = Path(__file__).resolve().parent.parent / "metadata/schemas/archive-config.schema.json"


# --- the parser, as data --------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One argument of one command, as the reference shows it."""

    names: tuple[str, ...]  # option strings, or () for a positional
    metavar: str  # what follows the option (or the positional's name); '' for a flag
    help: str
    required: bool
    group: int | None  # index of its mutually exclusive group, if any

    @property
    def label(self) -> str:
        """``--catalog F``, ``--fast``, ``SOURCE ...``."""
        if not self.names:
            return self.metavar
        return ", ".join(f"{n} {self.metavar}".rstrip() for n in self.names)


@dataclass(frozen=True)
class Command:
    """One command (or subcommand) of the parser."""

    prog: str  # 'archiver build', 'archiver ledger verify'
    summary: str  # the one line of 'archiver --help'
    description: str
    epilog: str
    options: tuple[Option, ...]
    subcommands: tuple[Command, ...]

    @property
    def anchor(self) -> str:
        return self.prog.replace(" ", "-")


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.metavar is not None:
        name = str(action.metavar)
    elif action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        name = "{" + ",".join(str(c) for c in action.choices) + "}"
    else:
        name = action.dest if not action.option_strings else action.dest.upper()
    if action.nargs == "?":
        return f"[{name}]"
    if action.nargs == "*":
        return f"[{name} ...]"
    if action.nargs == "+":
        return f"{name} [{name} ...]"
    if action.nargs == argparse.REMAINDER or isinstance(action, argparse._SubParsersAction):
        return f"{name} ..."
    return name


def _help(action: argparse.Action, prog: str) -> str:
    text = action.help or ""
    if "%(" in text:
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        text = text % dict(params, prog=prog)
    return text


def _command(parser: argparse.ArgumentParser, summary: str) -> Command:
    # argparse keeps actions and groups in these attributes; shtab and argparse-manpage
    # read the same ones (stable since Python 3.2).
    groups = parser._mutually_exclusive_groups
    options: list[Option] = []
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                subcommands.append(_command(sub, helps.get(name, "")))
        group = next((i for i, g in enumerate(groups) if action in g._group_actions), None)
        options.append(
            Option(
                names=tuple(action.option_strings),
                metavar=_metavar(action),
                help=_help(action, parser.prog),
                required=bool(action.required) or not action.option_strings,
                group=group,
            )
        )
    return Command(
        prog=parser.prog,
        summary=summary,
        description=parser.description or "",
        epilog=parser.epilog or "",
        options=tuple(options),
        subcommands=tuple(subcommands),
    )


def commands() -> Command:
    """The whole command line, from ``archiver.cli.build_parser()``."""
    return _command(build_parser(), "")


def usage(command: Command) -> str:
    """``archiver build [SOURCE ...] [--catalog F] ...``: options first, then positionals."""
    parts: list[str] = []
    done: set[int] = set()
    optionals = [o for o in command.options if o.names]
    for option in optionals:
        if option.group is not None:
            if option.group in done:
                continue
            done.add(option.group)
            members = [o for o in optionals if o.group == option.group]
            parts.append("[" + " | ".join(_short(o) for o in members) + "]")
        elif option.required:
            parts.append(_short(option))
        else:
            parts.append(f"[{_short(option)}]")
    parts.extend(o.metavar for o in command.options if not o.names)
    return " ".join([command.prog, *parts])


def _short(option: Option) -> str:
    if len(option.names) == 2 and option.names[1].startswith("--no-"):
        return f"{option.names[0]} | {option.names[1]}"  # BooleanOptionalAction
    return f"{option.names[0]} {option.metavar}".rstrip()


def walk(command: Command) -> Iterator[Command]:
    """The command and every subcommand under it, depth first."""
    yield command
    for sub in command.subcommands:
        yield from walk(sub)


# --- Markdown -----------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def md(text: str) -> str:
    """Plain text as Markdown that shows it as written."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _header(what: str) -> str:
    return (
        f"<!-- Generated from {what} by `{REGENERATE}`; do not edit: "
        "`make lint` fails when it differs. -->\n"
    )


def cli_markdown() -> str:
    """docs/reference/cli.md."""
    root = commands()
    out = [
        "---\ntitle: Command line\n---\n",
        _header("archiver.cli.build_parser()"),
        "# Command line\n",
        "Every command and option, generated from the parser itself: the same text as "
        "`archiver COMMAND --help` and `man archiver`. Exit statuses are explained in "
        "[Exit codes](exit-codes.md).\n",
        "```text\n" + usage(root) + "\n```\n",
        md(root.description) + "\n",
    ]
    out.append(_options_md(root))
    out.append("| command | what it does |\n|---|---|")
    for sub in root.subcommands:
        out.append(f"| [`{sub.prog}`](#{sub.anchor}) | {md(sub.summary)} |")
    out.append("")
    if root.epilog:
        out.append(md(root.epilog) + "\n")
    for command in list(walk(root))[1:]:
        level = "#" * (command.prog.count(" ") + 1)
        out.append(f"{level} `{command.prog}` {{#{command.anchor}}}\n")
        if command.summary:
            out.append(f"*{md(command.summary)}*\n")
        out.append("```text\n" + usage(command) + "\n```\n")
        if command.description:
            out.append(md(command.description) + "\n")
        out.append(_options_md(command))
        if command.subcommands:
            out.append("| subcommand | what it does |\n|---|---|")
            for sub in command.subcommands:
                out.append(f"| [`{sub.prog}`](#{sub.anchor}) | {md(sub.summary)} |")
            out.append("")
        if command.epilog:
            out.append(md(command.epilog) + "\n")
    return "\n".join(out).rstrip("\n") + "\n"


def _options_md(command: Command) -> str:
    rows = [o for o in command.options if o.help or o.names]
    if not rows:
        return ""
    lines = []
    for option in rows:
        help_text = md(option.help) if option.help else ""
        if option.required and option.names:
            help_text = f"(required) {help_text}"
        lines.append(f"- `{option.label}`" + (f": {help_text}" if help_text else ""))
    return "\n".join(lines) + "\n"


def kinds_markdown() -> str:
    """The finding kinds table (region ``finding-kinds``)."""
    lines = ["| kind | meaning |", "|---|---|"]
    lines += [f"| `{kind}` | {md(meaning)} |" for kind, meaning in KIND_DESCRIPTIONS.items()]
    return "\n".join(lines) + "\n"


def archive_toml_markdown() -> str:
    """Every table and key of archive.toml from its JSON Schema (region ``archive-toml``)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    required = set(schema.get("required", []))
    out: list[str] = []
    for table, spec in schema["properties"].items():
        need = "required" if table in required else "optional"
        out.append(f"### `[{table}]` ({need})\n")
        if spec.get("description"):
            out.append(md(spec["description"]) + "\n")
        keys = spec.get("properties", {})
        if not keys:
            extra = spec.get("additionalProperties")
            if isinstance(extra, dict):
                out.append(f"Sub-tables (`[{table}.NAME]`), each a table of settings.\n")
            continue
        wanted = set(spec.get("required", []))
        out.append("| key | type | required | what it is |\n|---|---|---|---|")
        for key, value in keys.items():
            out.append(
                f"| `{key}` | {_schema_type(value)} | {'yes' if key in wanted else 'no'} "
                f"| {_schema_text(value)} |"
            )
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _schema_type(spec: dict[str, object]) -> str:
    kind = str(spec.get("type", ""))
    if kind == "array" and isinstance(spec.get("items"), dict):
        items = spec["items"]
        assert isinstance(items, dict)
        return f"array of {items.get('type', '')}"
    return kind


def _schema_text(spec: dict[str, object]) -> str:
    parts = []
    if spec.get("description"):
        parts.append(md(str(spec["description"])))
    if spec.get("format"):
        parts.append(f"Format: {md(str(spec['format']))}.")
    if spec.get("pattern"):
        parts.append(f"Pattern: `{str(spec['pattern']).replace('|', chr(92) + '|')}`.")
    bounds = [
        f"{label} {spec[key]}"
        for key, label in (
            ("minimum", "at least"),
            ("exclusiveMinimum", "more than"),
            ("maximum", "at most"),
            ("minItems", "at least this many items:"),
        )
        if key in spec
    ]
    if bounds:
        parts.append(md("; ".join(bounds).capitalize()) + ".")
    return " ".join(parts)


def catalog_markdown() -> str:
    """The catalog's accepted columns (region ``catalog-columns``)."""
    required = ", ".join(f"`{t}`" for t in REQUIRED_TERMS)
    others = sorted(DCTERMS_TERMS - set(DC_ELEMENTS), key=str.lower)
    return (
        "| column | accepted names |\n|---|---|\n"
        "| first column | `filename` (the item: a file or a folder beside the catalog) |\n"
        f"| required | {required} (a row without one of them fails, naming it) |\n"
        "| `dc.*` | " + ", ".join(f"`dc.{t}`" for t in DC_ELEMENTS) + " |\n"
        "| `dcterms.*` | the 15 above as `dcterms.*`, and "
        + ", ".join(f"`dcterms.{t}`" for t in others)
        + " |\n"
        "| `premis.*` | " + ", ".join(f"`premis.{t}`" for t in sorted(PREMIS_COLUMNS)) + " |\n"
    )


# --- roff (man page) ------------------------------------------------------------------


def roff(text: str) -> str:
    """Text as a roff line: backslashes and hyphens escaped, no control line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in {".", "'"} else text


def man_page() -> str:
    """docs/man/archiver.1: the same parser, as a man page."""
    root = commands()
    out = [
        f'.\\" Generated from archiver.cli.build_parser() by {REGENERATE}; do not edit.',
        f'.TH ARCHIVER 1 "" "archiver {__version__}" "User Commands"',
        ".SH NAME",
        "archiver \\- " + roff(root.description[:1].lower() + root.description[1:].rstrip(".")),
        ".SH SYNOPSIS",
        ".B archiver",
        roff(usage(root).removeprefix("archiver ")),
        ".SH DESCRIPTION",
        roff(
            "archiver builds one BagIt preservation package per item of a catalog, with Dublin "
            "Core, PREMIS 3 and METS metadata, and validates, audits (recording every audit "
            "in a hash-chained ledger), repairs, packages and deposits them. Every command "
            "also has --help; the full documentation is the archiver site (docs/ in the "
            "source)."
        ),
        ".SH OPTIONS",
    ]
    out += _options_roff(root)
    out.append(".SH COMMANDS")
    for command in list(walk(root))[1:]:
        out.append(f".SS {roff(command.prog)}")
        if command.summary:
            out.append(roff(command.summary[:1].upper() + command.summary[1:] + "."))
            out.append(".PP")
        out += [".nf", roff(usage(command)), ".fi"]
        if command.description:
            out += [".PP", roff(command.description)]
        out += _options_roff(command)
        if command.subcommands:
            out += [".PP", "Subcommands: " + ", ".join(roff(s.prog) for s in command.subcommands)]
        if command.epilog:
            out += [".PP", roff(command.epilog)]
    out += [
        ".SH EXIT STATUS",
        ".TP",
        ".B 0",
        "all good",
        ".TP",
        ".B 1",
        roff("an integrity or validation failure was found (a damaged bag, a tampered ledger)"),
        ".TP",
        ".B 2",
        roff("the command could not do its work: bad arguments, bad metadata, unreadable input"),
        ".TP",
        ".B 130, 143",
        roff("interrupted (Ctrl-C) or terminated (SIGTERM); nothing is left half done"),
        ".SH ENVIRONMENT",
        ".TP",
        ".B SOURCE_DATE_EPOCH",
        roff("build and package take their times from it: two builds are byte-identical"),
        ".TP",
        ".B ARCHIVER_SCHEDULER",
        roff("the Dask scheduler of audit (tcp://HOST:PORT or local)"),
        ".TP",
        ".B ARCHIVER_TSA_URL",
        roff("the Time-Stamp Authority, overriding [timestamp] url"),
        ".SH FILES",
        ".TP",
        ".I archive.toml",
        roff("the archive's settings (organization, contact, collection, rights, bag, ledger)"),
        ".TP",
        ".I sources/metadata.csv",
        roff("the catalog: one row per item"),
        ".SH SEE ALSO",
        roff("archiver completion bash|zsh prints a shell completion script."),
    ]
    return "\n".join(out) + "\n"


def _options_roff(command: Command) -> list[str]:
    out: list[str] = []
    for option in command.options:
        if not option.help and not option.names:
            continue
        out += [".TP", f".B {roff(option.label)}"]
        text = option.help or ""
        if option.required and option.names:
            text = f"(required) {text}"
        out.append(roff(text) if text else "\\&")
    return out


# --- shell completion -----------------------------------------------------------------

_FILE_DESTS = {"sources", "bags", "bag", "files", "roots", "catalog", "config", "ledger"}
_DIR_DESTS = {"out", "directory", "root"}


def completion(shell: str) -> str:
    """The completion script for ``shell`` (bash or zsh), made by shtab from the parser."""
    import shtab  # a test-time dependency: the scripts ship pre-generated

    parser = build_parser()
    for action in _all_actions(parser):
        if action.choices is None and action.nargs != 0:
            if action.dest in _DIR_DESTS:
                action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
            elif action.dest in _FILE_DESTS or action.dest in {"json", "html"}:
                action.complete = shtab.FILE  # type: ignore[attr-defined]
    header = (
        f"# archiver {shell} completion, generated by shtab from archiver.cli.build_parser() "
        f"({REGENERATE}).\n"
    )
    script = str(shtab.complete(parser, shell=shell))
    if script.startswith("#compdef"):  # zsh reads it only on the first line
        first, _, rest = script.partition("\n")
        return f"{first}\n{header}{rest}"
    return header + script


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


# --- the files, and the check ---------------------------------------------------------

WHOLE: dict[str, Callable[[], str]] = {
    "docs/reference/cli.md": cli_markdown,
    "docs/man/archiver.1": man_page,
    "archiver/cli/completions/archiver.bash": lambda: completion("bash"),
    "archiver/cli/completions/archiver.zsh": lambda: completion("zsh"),
}
REGIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "finding-kinds": ("docs/reference/findings.md", kinds_markdown),
    "archive-toml": ("docs/reference/archive-toml.md", archive_toml_markdown),
    "catalog-columns": ("docs/reference/catalog.md", catalog_markdown),
}


def _fill(text: str, name: str, content: str, path: str) -> str:
    begin = f"<!-- generated: {name} -->\n"
    end = f"<!-- end generated: {name} -->"
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"{path}: no '{begin.strip()}' ... '{end}' region")
    return text[: start + len(begin)] + content + text[stop:]


def expected(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` as the code would write it now."""
    files = {root / path: render() for path, render in WHOLE.items()}
    for name, (path, render) in REGIONS.items():
        target = root / path
        current = files.get(target)
        if current is None:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
        files[target] = _fill(current, name, render(), path)
    return files


def drift(root: Path) -> list[str]:
    """Unified diffs of every generated file that differs from what it should be."""
    diffs: list[str] = []
    for path, text in expected(root).items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            name = str(path.relative_to(root))
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        f"{name} (on disk)",
                        f"{name} (generated now)",
                    )
                )
            )
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    """``--check``: exit 1 with a diff on drift; ``--write``: regenerate the files."""
    parser = argparse.ArgumentParser(prog="python -m archiver.cli.reference")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if a file differs")
    mode.add_argument("--write", action="store_true", help="write the generated files")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository")
    args = parser.parse_args(argv)
    if args.check:
        diffs = drift(args.root)
        for diff in diffs:
            sys.stdout.write(diff)
        if diffs:
            print(
                f"{len(diffs)} generated file(s) differ from the code: run '{REGENERATE}'",
                file=sys.stderr,
            )
            return 1
        print("the generated reference, man page and completions are up to date")
        return 0
    for path, text in expected(args.root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
