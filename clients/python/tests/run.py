#!/usr/bin/env python3
"""Runs ntk_sidecar test modules with unittest and writes a JSON summary (used by test/python-client/*.test.ts).

    /usr/bin/python3 clients/python/tests/run.py --out result.json test_dtypes test_sketch ...
    /usr/bin/python3 clients/python/tests/run.py            # every test_*.py here

Exit status 0 when nothing failed. Skips are listed with their reasons (missing frameworks skip loudly).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("modules", nargs="*", help="test module names (default: all test_*.py)")
    p.add_argument("--out", type=Path, help="write the JSON summary here")
    args = p.parse_args(argv)
    loader = unittest.TestLoader()
    if args.modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in args.modules)
    else:
        suite = loader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))
    started = time.monotonic()
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    summary = {
        "ran": result.testsRun,
        "failures": [{"test": t.id(), "traceback": tb} for t, tb in result.failures],
        "errors": [{"test": t.id(), "traceback": tb} for t, tb in result.errors],
        "skipped": [{"test": t.id(), "reason": reason} for t, reason in result.skipped],
        "seconds": round(time.monotonic() - started, 2),
    }
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
