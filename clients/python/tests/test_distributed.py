"""Two processes, torch.distributed with gloo on 127.0.0.1: rank 0 talks to the real sidecar (budget STOP at
step 30), DistributedStop broadcasts its answer, and both ranks stop on the same step."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import support

support.require("torch", "torch")
MAX_STEPS = 30


class DistributedTest(unittest.TestCase):
    def test_both_ranks_stop_on_the_same_step(self) -> None:
        target = support.sidecar_target()
        init = f"tcp://127.0.0.1:{support.free_port()}"
        run_id = f"py-ddp-{time.monotonic_ns()}"
        worker = Path(__file__).with_name("distributed_worker.py")
        with tempfile.TemporaryDirectory() as tmp:
            outs = [Path(tmp) / f"rank{r}.json" for r in range(2)]
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            procs = [subprocess.Popen([sys.executable, str(worker), "--rank", str(r), "--init", init, "--target", target,
                                       "--run-id", run_id, "--max-steps", str(MAX_STEPS), "--out", str(outs[r])],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for r in range(2)]
            logs = [p.communicate(timeout=120)[0] for p in procs]
            for r, p in enumerate(procs):
                self.assertEqual(p.returncode, 0, f"rank {r}:\n{logs[r]}")
            results = [json.loads(o.read_text()) for o in outs]
        r0, r1 = results
        print(f"\ndistributed: both ranks stopped at step {r0['stop_step']} (budget {MAX_STEPS})", file=sys.stderr)
        self.assertIsNotNone(r0["stop_step"], logs[0])
        self.assertEqual(r0["stop_step"], r1["stop_step"])
        self.assertEqual(r0["steps"], r1["steps"])
        # Decided at the first scalars with step >= 30, read by rank 0 a few steps later, never before.
        self.assertGreaterEqual(r0["stop_step"], MAX_STEPS)
        self.assertLess(r0["stop_step"], 5000)
        self.assertEqual((r0["decision"]["action"], r0["decision"]["reason"]), ("STOP", "BUDGET"))
        self.assertIsNone(r1["decision"])  # rank 1 has no client: it stopped on rank 0's word


if __name__ == "__main__":
    unittest.main()
