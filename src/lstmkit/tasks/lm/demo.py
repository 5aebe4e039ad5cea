"""`lstmkit demo lm`: a character-level model of the Python standard library's own source files, which
every machine running lstmkit has."""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Union

from ...errors import DataError
from ...rundir import clear_interrupted_demo
from ..run import train_run
from .estimator import LanguageModel

# The demo: a character-level model on 600 kB of the standard library's sources (400k training characters).
# Measured on 2 CPU cores shared with other work (OMP_NUM_THREADS=2): 90-100k characters a second when the
# cores are free (4.5 s an epoch, so all 10 epochs take under a minute), far fewer when they are not, where
# max_time ends training after the epoch that crosses 60 s. Two such runs took 67 s and 95 s in all, with a
# test perplexity of 5.3-5.5 against the unigram model's 22.3 (2.42-2.46 bits per character against 4.48). Later, on
# an AVX-512 EPYC: 5.14, against the 5-gram Kneser-Ney model's 5.02, which it does not beat; dropout 0.2: 5.25.
DEMO_BYTES = 600_000
DEMO_SETTINGS = dict(level="char", hidden=256, layers=1, embedding=32, dropout=0.0, bptt=64, batch_size=64,
                     lr=4e-3, epochs=10, patience=3, max_time=60.0)  # fmt: skip
# test suites, installed packages, and generated tables that are data rather than code (codec maps, the
# pydoc topic dump, the interpreter's build settings)
SKIPPED_FOLDERS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
                   "encodings", "pydoc_data"}  # fmt: skip
SKIPPED_FILES = ("_sysconfigdata",)  # name prefixes
MANIFEST = ".lstmkit-corpus.json"  # hidden, so the corpus reader leaves it out


def stdlib_sources(stdlib: Union[str, Path, None] = None) -> list[Path]:
    """The standard library's `.py` files in sorted path order, without test suites, installed packages
    and generated data tables (`SKIPPED_FOLDERS`, `SKIPPED_FILES`)."""
    root = Path(stdlib or sysconfig.get_paths()["stdlib"])
    return sorted(
        p for p in root.rglob("*.py")
        if p.is_file() and not SKIPPED_FOLDERS.intersection(p.relative_to(root).parts[:-1])
        and not p.name.startswith(SKIPPED_FILES)
    )  # fmt: skip


def stdlib_corpus(max_bytes: int = DEMO_BYTES, cache: Union[str, Path, None] = None) -> Path:
    """A folder of the running interpreter's standard-library sources, at most `max_bytes` in all: the
    first files in sorted path order that fit. Built once per Python version and size under `cache` (the
    system's temporary folder by default) and reused; returns the folder."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    folder = Path(cache or tempfile.gettempdir()) / f"lstmkit-stdlib-corpus-py{version}-{max_bytes}"
    if (folder / MANIFEST).exists():
        return folder
    chosen, total = [], 0
    for path in stdlib_sources(stdlib):
        size = path.stat().st_size
        if total + size > max_bytes:
            break
        chosen.append(path)
        total += size
    if not chosen:
        raise DataError(f"{stdlib}: no Python standard-library sources of at most {max_bytes} bytes found for the demo")
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        for path in chosen:
            target = staging / path.relative_to(stdlib)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        manifest = {"python": sys.version, "stdlib": str(stdlib), "files": len(chosen), "bytes": total}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(staging, folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (folder / MANIFEST).exists():  # not merely another process that got there first
            raise
    return folder


def demo(out, seed: int = 0, reporter=None) -> dict:
    """`lstmkit demo lm`: a character-level model of Python source code, trained on the standard library
    of the running interpreter; returns metrics.json's content."""
    clear_interrupted_demo(out)
    return train_run(LanguageModel(**DEMO_SETTINGS, seed=seed), stdlib_corpus(), out, reporter=reporter)
