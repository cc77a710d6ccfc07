"""The non-archiver contenders, each run as ``python -m bench.contenders NAME ...``.

Each runs in its own process so that the runner can take its wall time and peak RSS
(``os.wait4``) apart from every other contender's.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import mmap
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

BLOCK = 1 << 20


def hash_one(path: str, algorithms: Sequence[str]) -> int:
    """Hash one file with every algorithm from one read (OpenSSL via hashlib)."""
    hashes = [hashlib.new(a) for a in algorithms]
    buf = mmap.mmap(-1, BLOCK)
    view = memoryview(buf)
    total = 0
    with open(path, "rb", buffering=0) as stream:
        while n := stream.readinto(view):
            chunk = view[:n] if n < BLOCK else view
            for h in hashes:
                h.update(chunk)
            total += n
    for h in hashes:
        h.hexdigest()
    view.release()
    return total


def hash_files(files: Sequence[str], algorithms: Sequence[str], workers: int) -> int:
    """The hashing limit: every file hashed, ``workers`` processes at a time."""
    if workers <= 1:
        return sum(hash_one(f, algorithms) for f in files)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(hash_one, files, [algorithms] * len(files)))


def hash_threads(path: str, algorithms: Sequence[str]) -> None:
    """One file, each algorithm in a thread of its own reading the file itself (warm):
    the file's hashing limit on as many cores as algorithms (hashlib releases the GIL)."""
    threads = [threading.Thread(target=hash_one, args=(path, [a])) for a in algorithms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def floor_build(source: Path, out_dir: Path) -> None:
    """The floor of building one item: ``cp`` it, ``sync``, then hash its bytes with
    sha256 and sha512 on two cores (``hash_threads``)."""
    out_dir.mkdir(parents=True)
    subprocess.run(["cp", str(source), str(out_dir / source.name)], check=True)
    os.sync()
    hash_threads(str(source), ["sha256", "sha512"])


def cp_make_bag(source: Path, out_dir: Path) -> None:
    """What a user would do instead: ``cp`` the item, ``bagit.make_bag`` it (sha256 and
    sha512, bag-info as archiver writes), ``sync``."""
    import bagit

    out_dir.mkdir(parents=True)
    subprocess.run(["cp", str(source), str(out_dir / source.name)], check=True)
    bagit.make_bag(str(out_dir), bag_info_for(source), checksums=["sha256", "sha512"])
    os.sync()


def _hash_bags(bags: Sequence[str]) -> int:
    """Every file of every bag opened, read and hashed with sha256 and sha512: one reused
    buffer, ``os.open``/``os.readv``/``os.close``, nothing else."""
    view = memoryview(mmap.mmap(-1, BLOCK))
    total = 0
    sha256, sha512 = hashlib.sha256, hashlib.sha512
    for bag in bags:
        for directory, _, names in os.walk(bag):
            for name in names:
                fd = os.open(os.path.join(directory, name), os.O_RDONLY)
                try:
                    hashes = (sha256(), sha512())
                    while n := os.readv(fd, [view]):
                        chunk = view[:n]
                        for h in hashes:
                            h.update(chunk)
                        total += n
                    for h in hashes:
                        h.hexdigest()
                finally:
                    os.close(fd)
    return total


def floor_bags(root: Path, workers: int) -> int:
    """The floor of auditing many small bags: open, read and hash every file of every bag
    with both algorithms, ``workers`` processes over chunks of bags, nothing else."""
    bags = [str(b) for b in bag_dirs(root)]
    size = max(1, len(bags) // (workers * 8))
    chunks = [bags[i : i + size] for i in range(0, len(bags), size)]
    if workers <= 1:
        return sum(_hash_bags(c) for c in chunks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_hash_bags, chunks))


def bag_info_for(source: Path) -> dict[str, str]:
    """The bag-info an archiver bag carries (minus Bagging-Date, Oxum, sizes: make_bag's)."""
    stem = source.stem
    return {
        "Source-Organization": "Kazakhstan Human Rights Statements Archive",
        "Contact-Name": "Collections Archivist",
        "Contact-Email": "archivist@example.org",
        "External-Identifier": stem,
        "External-Description": f"Statement {stem}",
        "Bag-Group-Identifier": "kz-human-rights-statements-2011-2022",
        "BagIt-Profile-Identifier": (
            "https://archiver.example.org/profiles/archiver-bagit-profile-v1.json"
        ),
        "Internal-Sender-Identifier": source.name,
    }


def make_bag_loop(source_dir: Path, out_dir: Path, profile: bool = True) -> int:
    """Copy each source into its own directory and ``bagit.make_bag`` it (sha256+sha512).

    Without ``profile`` the bag-info does not claim archiver's BagIt profile (a plain
    bag of one file, which an audit checks with BagIt alone)."""
    import bagit

    count = 0
    for source in sorted(source_dir.glob("*.txt")):
        bag = out_dir / source.stem
        bag.mkdir(parents=True)
        shutil.copy2(source, bag / source.name)
        info = bag_info_for(source)
        if not profile:
            del info["BagIt-Profile-Identifier"]
        bagit.make_bag(str(bag), info, checksums=["sha256", "sha512"])
        count += 1
    return count


def bag_dirs(root: Path) -> list[Path]:
    """The bags directly under ``root``, sorted (hidden entries skipped)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def validate_loop(root: Path, processes: int) -> int:
    """``bagit.Bag(path).validate()`` for every bag under ``root``, in this process."""
    import bagit

    bags = bag_dirs(root) if not (root / "bagit.txt").exists() else [root]
    for bag in bags:
        bagit.Bag(str(bag)).validate(processes=processes)
    return len(bags)


def cli_loop(root: Path, sample: int) -> int:
    """``bagit.py --validate BAG`` run as its own process for the first ``sample`` bags."""
    script = Path(sys.executable).with_name("bagit.py")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bagit"]
    bags = bag_dirs(root)[:sample]
    for bag in bags:
        subprocess.run([*command, "--quiet", "--validate", str(bag)], check=True)
    return len(bags)


def cp_validate(stored: Path, payload: Path, bag: Path) -> None:
    """Copy a good file back with coreutils ``cp``, then ``bagit.Bag(bag).validate()``."""
    import bagit

    subprocess.run(["cp", str(stored), str(payload)], check=True)
    bagit.Bag(str(bag)).validate()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one contender."""
    logging.getLogger("bagit").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="bench.contenders")
    sub = parser.add_subparsers(dest="name", required=True)
    p = sub.add_parser("hash")
    p.add_argument("--algorithms", default="sha256")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("files", nargs="+")
    p = sub.add_parser("make-bag-loop")
    p.add_argument("source_dir", type=Path)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p = sub.add_parser("validate-loop")
    p.add_argument("root", type=Path)
    p.add_argument("--processes", type=int, default=1)
    p = sub.add_parser("cli-loop")
    p.add_argument("root", type=Path)
    p.add_argument("--sample", type=int, required=True)
    for name in ("floor-build", "cp-make-bag"):
        p = sub.add_parser(name)
        p.add_argument("source", type=Path)
        p.add_argument("out_dir", type=Path)
    p = sub.add_parser("floor-bags")
    p.add_argument("root", type=Path)
    p.add_argument("--workers", type=int, default=1)
    p = sub.add_parser("cp-validate")
    p.add_argument("stored", type=Path)
    p.add_argument("payload", type=Path)
    p.add_argument("bag", type=Path)
    args = parser.parse_args(argv)
    if args.name == "floor-build":
        floor_build(args.source, args.out_dir)
    elif args.name == "cp-make-bag":
        cp_make_bag(args.source, args.out_dir)
    elif args.name == "floor-bags":
        floor_bags(args.root, args.workers)
    elif args.name == "cp-validate":
        cp_validate(args.stored, args.payload, args.bag)
    elif args.name == "hash":
        hash_files(args.files, args.algorithms.split(","), args.workers)
    elif args.name == "make-bag-loop":
        make_bag_loop(args.source_dir, args.out_dir, args.profile)
    elif args.name == "validate-loop":
        validate_loop(args.root, args.processes)
    else:
        cli_loop(args.root, args.sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
