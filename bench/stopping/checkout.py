"""The code under test: a clean export of one commit (default HEAD; NTK_BENCH_REF=<rev>, or NTK_BENCH_REF=worktree
for the working tree as is) of the sidecar (src/, proto/) and the Python client, under /tmp. Several engineers edit
the working tree at once; a half-finished edit must not decide a 45-minute benchmark, and the report names the
commit it measured."""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PATHS = ("src", "proto", "clients/python/src", "package.json", "tsconfig.json", "tsconfig.build.json")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def resolve() -> tuple[Path, str]:
    """(root of the code under test, its description)."""
    ref = os.environ.get("NTK_BENCH_REF", "HEAD")
    if ref == "worktree":
        return REPO, f"working tree at {_git('rev-parse', '--short', 'HEAD')} (uncommitted changes included)"
    sha = _git("rev-parse", ref)
    root = Path(tempfile.gettempdir()) / f"ntk-bench-src-{sha[:12]}"
    if not (root / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = root / "src.tar"
        subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), sha, *PATHS], cwd=REPO, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(root)
        archive.unlink()
        link = root / "node_modules"
        if not link.exists():
            link.symlink_to(REPO / "node_modules")
        (root / ".complete").write_text(sha)
    subject = _git("log", "-1", "--format=%s", sha)
    return root, f"commit {sha[:7]} ({subject[:70]})"


ROOT, DESCRIPTION = resolve()
