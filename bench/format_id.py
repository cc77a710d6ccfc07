"""FIDO (as archiver uses it) against siegfried (pygfried) for format identification.

Run from the repository root as ``python -m bench.format_id [--reps N] [--out FILE]``
(siegfried needs ``pip install -c constraints.txt '.[bench]'``). The corpus is the
statements in ``sources/`` plus a PDF, a DOCX and an ODT made by
``bench/format_samples.py``. Every measurement runs in a fresh interpreter:

- identification: the PUID each tool gives each file, and on what basis;
- start-up: seconds (wall and CPU) from before the import to a loaded identifier
  (FIDO: signatures read and compiled by ``FormatIdentifier.prepare``; siegfried: the
  first identification, since its signatures load on first use);
- identify: median seconds (wall and CPU) to identify the whole corpus once more, after
  start-up (FIDO's includes the text profile archiver needs to choose among extension
  matches);
- memory: peak RSS of that process, and of a bare interpreter for comparison;
- fork safety: the tool is loaded in a parent, which then starts a worker with each
  multiprocessing start method and has it identify a file (30 s limit); also the number
  of OS threads after loading (Python 3.12+ warns when forking a multi-threaded process).

Results are printed and written to ``bench/results/format-id.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.format_samples import make_samples

TOOLS = ("fido", "siegfried")
FORK_TIMEOUT = 30.0
_ROOT = Path(__file__).resolve().parent.parent


def make_corpus(directory: Path, sources: Path = _ROOT / "sources") -> list[Path]:
    """The sources' statements (copied) and the three samples, in a fixed order."""
    copies = []
    for source in sorted(sources.glob("*.txt")):
        copies.append(Path(shutil.copyfile(source, directory / source.name)))
    return copies + make_samples(directory)


def load_tool(tool: str) -> Callable[[Path], tuple[str | None, str]]:
    """A loaded identifier for ``tool``: path → (PUID, basis)."""
    if tool == "fido":
        from archiver.build.characterize import FormatIdentifier, TextProfiler

        identifier = FormatIdentifier()
        identifier.prepare()

        def fido(path: Path) -> tuple[str | None, str]:
            profiler = TextProfiler()  # archiver's choice among extension matches needs it
            profiler(memoryview(path.read_bytes()))
            match = identifier.identify(path, profiler.result())
            return match.puid, match.basis

        return fido
    if tool == "siegfried":
        import pygfried

        scanner = pygfried.Scanner()

        def siegfried(path: Path) -> tuple[str | None, str]:
            result = scanner.identify(str(path), detailed=True)
            matches = result["files"][0]["matches"]
            if not matches:
                return None, "none"
            return matches[0]["id"], matches[0]["basis"]

        return siegfried
    raise ValueError(f"unknown tool {tool!r}")


def tool_version(tool: str) -> str:
    """The tool's version and the signature release it carries."""
    if tool == "fido":
        from archiver.build.characterize import FormatIdentifier

        return "FIDO " + FormatIdentifier().agent_version
    import pygfried

    details = pygfried.identify(__file__, detailed=True)["identifiers"][0]["details"]
    return f"siegfried {pygfried.version()} ({details})"


def _threads() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(tool: str, corpus: list[Path], reps: int) -> dict[str, Any]:
    """Start-up, identification and memory of ``tool`` (run in a fresh interpreter)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    identify = load_tool(tool)
    first = identify(corpus[0])  # siegfried loads its signatures on first use
    startup, startup_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    results = {corpus[0].name: first}
    times, cpu_times = [], []
    for _ in range(reps):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        results = {path.name: identify(path) for path in corpus}
        times.append(time.perf_counter() - begin)
        cpu_times.append(time.process_time() - begin_cpu)
    return {
        "tool": tool,
        "version": tool_version(tool),
        "startup_s": startup,
        "startup_cpu_s": startup_cpu,
        "identify_corpus_s": statistics.median(times),
        "identify_corpus_cpu_s": statistics.median(cpu_times),
        "peak_rss_kib": _peak_rss_kib(),
        "threads_after_load": _threads(),
        "results": {
            name: {"puid": puid, "basis": basis} for name, (puid, basis) in results.items()
        },
    }


def _identify_in_worker(tool: str, path: str, out: Any) -> None:
    out.put(load_tool(tool)(Path(path))[0])


def fork_check(tool: str, path: Path) -> dict[str, Any]:
    """Load ``tool`` here, then identify ``path`` in a worker of each start method."""
    identify = load_tool(tool)
    identify(path)
    report: dict[str, Any] = {"threads_before_fork": _threads()}
    for method in multiprocessing.get_all_start_methods():
        context: Any = multiprocessing.get_context(method)
        out = context.Queue()
        worker = context.Process(target=_identify_in_worker, args=(tool, str(path), out))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            worker.start()
        worker.join(FORK_TIMEOUT)
        if worker.is_alive():
            worker.kill()
            worker.join()
            outcome = f"hung (killed after {FORK_TIMEOUT:.0f} s)"
        elif worker.exitcode == 0:
            outcome = f"ok ({out.get(timeout=5)})"
        else:
            outcome = f"failed (exit {worker.exitcode})"
        warned = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
        report[method] = {"outcome": outcome, "warnings": warned}
    return report


def _child(args: argparse.Namespace) -> None:
    corpus = sorted(Path(args.corpus).iterdir(), key=_corpus_order)
    if args.child == "bare":
        data: dict[str, Any] = {"peak_rss_kib": _peak_rss_kib()}
    elif args.fork_check:
        data = fork_check(args.child, corpus[-1])
    else:
        data = measure(args.child, corpus, args.reps)
    print(json.dumps(data))


def _corpus_order(path: Path) -> tuple[bool, str]:
    return (path.suffix != ".txt", path.name)  # statements first, then the samples


def _run_child(python: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [python, "-m", "bench.format_id", *args],
        cwd=_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _available(tool: str) -> bool:
    module = {"fido": "fido", "siegfried": "pygfried"}[tool]
    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    """Measure every installed tool and print the comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.format_id")
    parser.add_argument("--reps", type=int, default=5, help="corpus identifications timed")
    parser.add_argument("--out", type=Path, default=_ROOT / "bench/results/format-id.json")
    parser.add_argument("--child", choices=[*TOOLS, "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--fork-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="format-id-") as scratch:
        corpus = make_corpus(Path(scratch))
        tools = [tool for tool in TOOLS if _available(tool)]
        missing = sorted(set(TOOLS) - set(tools))
        common = ["--corpus", scratch, "--reps", str(args.reps)]
        report: dict[str, Any] = {
            "python": platform.python_version(),
            "machine": platform.platform(),
            "files": [path.name for path in corpus],
            "bare_interpreter_peak_rss_kib": _run_child(python, "--child", "bare", *common)[
                "peak_rss_kib"
            ],
            "not_installed": missing,
            "tools": {},
        }
        for tool in tools:
            measured = _run_child(python, "--child", tool, *common)
            measured["fork_check"] = _run_child(python, "--child", tool, "--fork-check", *common)
            report["tools"][tool] = measured
    print(render(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


def render(report: dict[str, Any]) -> str:
    """The comparison as plain text: one column per tool."""
    tools = report["tools"]
    lines = [f"Python {report['python']} on {report['machine']}"]
    for tool, data in tools.items():
        lines.append(f"{tool}: {data['version']}")
    if report["not_installed"]:
        lines.append("not installed: " + ", ".join(report["not_installed"]))
    width = max(len(name) for name in report["files"]) + 2
    lines.append("file".ljust(width) + "".join(tool.ljust(14) for tool in tools))
    for name in report["files"]:
        row = [str(data["results"][name]["puid"]) for data in tools.values()]
        lines.append(name.ljust(width) + "".join(cell.ljust(14) for cell in row))
    bare = report["bare_interpreter_peak_rss_kib"]
    for label, key, fmt in (
        ("start-up (s)", "startup_s", "{:.3f}"),
        ("start-up CPU (s)", "startup_cpu_s", "{:.3f}"),
        ("identify all (s)", "identify_corpus_s", "{:.4f}"),
        ("identify all CPU (s)", "identify_corpus_cpu_s", "{:.4f}"),
        ("peak RSS (MiB)", "peak_rss_kib", "{:.0f}"),
        ("OS threads", "threads_after_load", "{}"),
    ):
        cells = []
        for data in tools.values():
            value = data[key] / 1024 if key == "peak_rss_kib" else data[key]
            cells.append(fmt.format(value))
        lines.append(label.ljust(width) + "".join(cell.ljust(14) for cell in cells))
    lines.append(f"(bare interpreter peak RSS {bare / 1024:.0f} MiB)")
    for tool, data in tools.items():
        for method, check in data["fork_check"].items():
            if isinstance(check, dict):
                warned = "; warns: " + check["warnings"][0] if check["warnings"] else ""
                lines.append(f"{tool} loaded, then a {method} worker: {check['outcome']}{warned}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
