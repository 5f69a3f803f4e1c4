"""Client recordings (ntk_sidecar.recording, `SidecarClient(record_path=/record_dir=)`) replayed by the real
`ntk-sidecar replay` CLI.

RecordingFormatTest (numpy only, no sidecar): the lines are what src/record/recording.ts decodeRecording() reads;
the kernel of a Jacobian, sketch or Gram snapshot (full and traced, f32/f64/bf16 on the wire) against float64
references of the wire values; non-finite numbers; everything recorded while the sidecar is unreachable; a new
gzip member per client; an unwritable path is logged once and never reaches the trainer.

ReplayAgainstSidecarTest (torch + node): runs streamed to a real sidecar started with `--record-dir` while the
client records too; both files go through `ntk-sidecar replay --json` under the same policy file. Asserted:
  * the client's header `start` equals the sidecar's (the proto-loader object, exactly); every snapshot's id,
    step, scalars and logits are equal; the Scalars events are equal;
  * Jacobian run (tanh MLP, P = 843, float32 on the wire): K = J·Jᵀ agrees within 1e-12·max|K| (seen: 1.5e-15).
    Both sides multiply the same float32 wire values in float64; only the summation order differs (numpy/BLAS
    here, 4 KiB chunks of columns in the sidecar's reference backend): |error| ≲ P·2⁻⁵³·max|K| ≈ 1e-13. The
    decision timelines agree exactly on (step, action, reason): a decision compares statistics of the kernel to
    thresholds, and a ~1e-15 relative change could flip one only if a statistic sat that close to a threshold,
    which this seeded run does not. `detail` strings are not compared (numbers printed to 4 digits could round
    differently at a boundary);
  * Gram run (linear student, traced Gram in float64): the kernels are equal bit for bit (the same
    symmetrization of the same numbers) and the replays are identical in every field, STOP at KESS included;
  * a corrupted client file and one of another format version are refused by replay with its message.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import numpy as np

import support
from ntk_sidecar import RunSpec, SidecarClient, Snapshot, TensorData
from ntk_sidecar.dtypes import round_trip
from ntk_sidecar.recording import CLIENT_SUFFIX, RECORDING_SUFFIX, recording_file_name

KERNEL_TOL = 1e-12


def read_lines(path: Path) -> list[dict]:
    """Every line of every gzip member, JSON-decoded with the recording's conventions undone only for $num."""
    def hook(o: dict):
        if set(o) == {"$num"}:
            return float(o["$num"].replace("Infinity", "inf"))
        return o
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line, object_hook=hook) for line in f if line.strip()]


def complete(path: Path) -> bool:
    """The gzip file exists and its last member is finished (the sidecar closes a run's member asynchronously,
    after RunEnd)."""
    try:
        read_lines(path)
        return True
    except (OSError, EOFError):
        return False


def f64(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8")


def symmetric(upper: np.ndarray, n: int) -> np.ndarray:
    k = np.zeros((n, n))
    k[np.triu_indices(n)] = upper
    return k + np.triu(k, 1).T


def replay(path: Path, policy: Path | None = None) -> subprocess.CompletedProcess:
    cmd = ["node", "--import", "tsx", "src/cli/main.ts", "replay", str(path), "--json"]
    if policy is not None:
        cmd += ["--policy", str(policy)]
    return subprocess.run(cmd, cwd=support.REPO, capture_output=True, text=True, timeout=120)


class RecordingFormatTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ntk-rec-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.rng = np.random.default_rng(5)

    def offline_client(self, spec: RunSpec, **options) -> SidecarClient:
        # A port nothing listens on: the sidecar is unreachable; the recording must not care.
        return SidecarClient(f"127.0.0.1:{support.free_port()}", spec, backoff_initial_s=0.05, backoff_max_s=0.2,
                             **options)

    def test_lines_and_kernels(self) -> None:
        n, c, p = 5, 3, 37
        spec = RunSpec(run_id="rec/unit.1", num_samples=n, num_outputs=c, targets=self.rng.integers(0, c, n),
                       loss="cross_entropy", optimizer="momentum", momentum=0.9, learning_rate=0.1, param_count=p,
                       sketch_dim=4, sketch_seed=2**40 + 3, labels={"team": "ml"}, max_steps=500, warmup_steps=7)
        j = self.rng.standard_normal((n * c, p)).astype(np.float32)
        z = self.rng.standard_normal((n * c, 4))
        g = self.rng.standard_normal((n * c, n * c))
        g_tr = self.rng.standard_normal((n, n))
        logits = self.rng.standard_normal((n, c))
        snaps = [
            # Jacobian in two column blocks, bf16 on the wire: the kernel is made of the bf16 values.
            Snapshot(1, 2.5, [TensorData("jacobian", "bf16", n * c, p, [(0, j[:, :20]), (20, j[:, 20:])]),
                              TensorData.dense("logits", logits)], learning_rate=0.1, compute_spent=3.0),
            Snapshot(2, float("nan"), [TensorData.dense("jacobian", j, "f32")], reduction="trace"),
            Snapshot(3, 1.0, [TensorData.dense("sketch", z, "f64")], reduction="trace"),
            Snapshot(4, 1.0, [TensorData("gram", "f32", n * c, n * c, [(0, g[:7]), (7, g[7:])])]),
            Snapshot(5, 1.0, [TensorData.dense("gram", g_tr, "f64")], reduction="trace"),
            Snapshot(6, 0.5, [TensorData.dense("logits", logits, "f16")]),
        ]
        client = self.offline_client(spec, record_dir=str(self.dir))
        for i, s in enumerate(snaps):
            client.submit(s)
            client.send_scalars(s.step, float("inf") if i == 2 else 0.25 * i, compute_spent=float(i))
        client.close(timeout=0.5)
        path = self.dir / recording_file_name("rec/unit.1")
        self.assertEqual(path.name, "rec%2Funit%2E1" + CLIENT_SUFFIX)
        self.assertTrue(path.name.endswith(RECORDING_SUFFIX))
        self.assertIsNone(client.recorder.error)
        lines = read_lines(path)
        header = lines[0]
        self.assertEqual({k: header[k] for k in ("type", "format", "version", "policy", "analysis")},
                         {"type": "header", "format": "ntk-sidecar-recording", "version": 1, "policy": None,
                          "analysis": {"backend": "client", "exactMax": 2048, "topK": 64}})
        self.assertTrue(header["sidecarVersion"].startswith("python-client "))
        start = header["start"]
        self.assertEqual(start["probe"]["num_samples"], n)
        self.assertEqual(start["probe"]["targets"]["dtype"], "DTYPE_F32")
        self.assertEqual(start["probe"]["targets"]["shape"], [n])
        self.assertEqual(np.frombuffer(base64.b64decode(start["probe"]["targets"]["data"]["$b64"]), "<f4").tolist(),
                         spec.targets.astype(float).tolist())
        self.assertEqual(start["loss"], {"kind": "LOSS_KIND_CROSS_ENTROPY", "scale": 0.0})
        self.assertEqual(start["optimizer"]["kind"], "OPTIMIZER_KIND_MOMENTUM")
        self.assertEqual(start["sketch"], {"kind": "SKETCH_KIND_GAUSSIAN", "dim": 4, "seed": 2**40 + 3})
        self.assertEqual(start["budget"], {"max_steps": 500, "max_compute": 0.0})
        self.assertEqual((start["warmup_steps"], start["labels"], start["eval_probe"]), (7, {"team": "ml"}, None))
        events = lines[1:]
        self.assertEqual([e["type"] for e in events], ["snapshot", "scalars"] * len(snaps))
        recorded = events[0::2]
        self.assertEqual([e["snapshotId"] for e in recorded], [1, 2, 3, 4, 5, 6])
        self.assertEqual([e["step"] for e in recorded], [1, 2, 3, 4, 5, 6])
        self.assertTrue(np.isnan(recorded[1]["trainLoss"]))
        self.assertEqual(events[5]["trainLoss"], float("inf"))
        self.assertEqual((recorded[0]["learningRate"], recorded[0]["computeSpent"], recorded[0]["preconditioned"]),
                         (0.1, 3.0, False))
        jw = round_trip(j, "bf16")
        j32 = j.astype(np.float64)
        gw = round_trip(g, "f32")
        want = [
            ("TENSOR_KIND_JACOBIAN", "DTYPE_BF16", "full", jw @ jw.T),
            ("TENSOR_KIND_JACOBIAN", "DTYPE_F32", "trace",
             np.einsum("icjc->ij", (j32 @ j32.T).reshape(n, c, n, c)) / c),
            ("TENSOR_KIND_SKETCH", "DTYPE_F64", "trace", np.einsum("icjc->ij", (z @ z.T).reshape(n, c, n, c)) / c),
            ("TENSOR_KIND_GRAM", "DTYPE_F32", "full", 0.5 * (gw + gw.T)),
            ("TENSOR_KIND_GRAM", "DTYPE_F64", "trace", 0.5 * (g_tr + g_tr.T)),
        ]
        for e, (kind, dtype, reduction, k) in zip(recorded, want):
            kern = e["kernel"]
            self.assertEqual((kern["kind"], kern["dtype"], kern["reduction"], kern["size"]),
                             (kind, dtype, reduction, k.shape[0]))
            got = symmetric(f64(kern["upper"]), kern["size"])
            self.assertLess(np.abs(got - k).max(), KERNEL_TOL * np.abs(k).max(), kind)
        # A Gram is recorded bit for bit (the sidecar's symmetrization of the same numbers).
        self.assertEqual(f64(recorded[3]["kernel"]["upper"]).tobytes(),
                         np.ascontiguousarray((0.5 * (gw + gw.T))[np.triu_indices(n * c)]).tobytes())
        self.assertEqual(f64(recorded[0]["logits"]).tolist(), round_trip(logits, "f32").reshape(-1).tolist())
        self.assertEqual(f64(recorded[5]["logits"]).tolist(), round_trip(logits, "f16").reshape(-1).tolist())
        self.assertNotIn("kernel", recorded[5])  # absent, never null
        self.assertNotIn("logits", recorded[1])
        self.assertEqual(client.stats.snapshots_sent, 0)  # nothing reached a sidecar; everything was recorded

    def test_appends_a_member_per_client(self) -> None:
        spec = RunSpec(run_id="rec-append", num_samples=2, num_outputs=1)
        path = self.dir / "run.ntkrec.jsonl.gz"
        for step in (1, 2):
            client = self.offline_client(spec, record_path=path)
            client.send_scalars(step, 1.0)
            client.close(timeout=0.2)
        self.assertEqual([e["type"] for e in read_lines(path)], ["header", "scalars", "header", "scalars"])

    def test_unwritable_path_never_reaches_training(self) -> None:
        blocker = self.dir / "file"
        blocker.write_text("not a directory")
        spec = RunSpec(run_id="rec-bad", num_samples=2, num_outputs=1)
        with support.LogCapture() as logs:
            client = self.offline_client(spec, record_dir=str(blocker / "sub"))
            client.submit(Snapshot(1, 1.0, [TensorData.dense("logits", np.ones((2, 1)))]))
            client.send_scalars(2, 1.0)
            client.close(timeout=0.2)
        self.assertIsNotNone(client.recorder.error)
        self.assertEqual(len([m for m in logs.messages(logging.ERROR) if "recording of run rec-bad" in m]), 1,
                         logs.messages())

    def test_file_name_matches_the_sidecars_rule(self) -> None:
        self.assertEqual(recording_file_name("a b.c", ".x"), "a%20b%2Ec.x")
        self.assertEqual(recording_file_name("é(~)!*'", ".x"), "%C3%A9(~)!*'.x")
        long = recording_file_name("r" * 300, ".x")
        self.assertTrue(long.startswith("r" * 100 + "%~") and long.endswith(".x") and len(long) == 100 + 2 + 64 + 2)


class ReplayAgainstSidecarTest(unittest.TestCase):
    """A run streamed to a real sidecar with --record-dir while the client records too; both replayed."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.torch = support.require("torch", "torch")
        cls.dir = Path(tempfile.mkdtemp(prefix="ntk-rec-replay-"))
        cls.sidecar = support.SidecarProcess(extra_args=["--record-dir", str(cls.dir / "sidecar")])
        cls.policy = cls.dir / "policy.json"
        shutil.copy(support.policy_path(cls.sidecar.dir), cls.policy)
        cls.sidecar.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sidecar.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def train(self, student, mode: str, steps: int, lr: float, every: int = 10, **ntk_options) -> tuple[Path, Path, SidecarClient]:
        """`student` fits a linear teacher with noisy labels (y = x·W + 0.3·ε) by full-batch SGD on MSE; probe: the
        first 8 of 64 samples."""
        torch = self.torch
        from ntk_sidecar import SidecarMonitor
        from ntk_sidecar.torch_adapter import TorchNtk

        x = torch.randn(64, 6, generator=torch.Generator().manual_seed(23))
        w = torch.randn(6, 3, generator=torch.Generator().manual_seed(24))
        y = x @ w + 0.3 * torch.randn(64, 3, generator=torch.Generator().manual_seed(25))
        ntk = TorchNtk(student, x[:8], probe_targets=y[:8], mode=mode, loss="mse", **ntk_options)
        run_id = f"py-rec-{mode}.{time.monotonic_ns()}"
        spec = ntk.run_spec(run_id, learning_rate=lr, optimizer="sgd")
        # Small chunks (many partial sums in the sidecar) and a queue that never drops: both sides see every item.
        client = SidecarClient(self.sidecar.target, spec, max_chunk_bytes=4096, max_queued_snapshots=1000,
                               max_queued_scalars=100_000, record_dir=str(self.dir / "client"))
        monitor = SidecarMonitor(client, ntk.snapshot, snapshot_every=every, scalars_every=5, scalars_interval_s=0,
                                 shadow=True)
        opt = torch.optim.SGD(student.parameters(), lr=lr)
        for step in range(1, steps + 1):
            loss = (student(x) - y).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.on_step(step, loss.item(), learning_rate=lr, compute_spent=float(step))
        self.assertTrue(client.flush(timeout=120), client.stats)
        monitor.close(timeout=30)
        self.assertEqual((client.stats.snapshots_dropped, client.stats.snapshots_rejected, client.stats.scalars_dropped),
                         (0, 0, 0), client.stats)
        self.assertIsNone(client.recorder.error)
        ours = self.dir / "client" / recording_file_name(run_id)
        theirs = self.dir / "sidecar" / recording_file_name(run_id, RECORDING_SUFFIX)
        self.assertTrue(support.wait_until(lambda: complete(theirs), 30), theirs)
        return ours, theirs, client

    def replayed(self, path: Path) -> dict:
        r = replay(path, self.policy)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def compare(self, ours: Path, theirs: Path, exact_kernel: bool) -> tuple[dict, dict]:
        mine, server = read_lines(ours), read_lines(theirs)
        self.assertEqual(mine[0]["start"], server[0]["start"])
        self.assertEqual(len(mine), len(server))
        for a, b in zip(mine[1:], server[1:]):
            self.assertEqual(a["type"], b["type"])
            keys = ["step", "trainLoss", "computeSpent"] + (
                ["snapshotId", "learningRate", "preconditioned", "logits"] if a["type"] == "snapshot" else [])
            self.assertEqual({k: a.get(k) for k in keys}, {k: b.get(k) for k in keys})
            if a["type"] == "snapshot":
                ka, kb = a["kernel"], b["kernel"]
                self.assertEqual({k: ka[k] for k in ("kind", "dtype", "reduction", "size")},
                                 {k: kb[k] for k in ("kind", "dtype", "reduction", "size")})
                ua, ub = f64(ka["upper"]), f64(kb["upper"])
                if exact_kernel:
                    self.assertEqual(ua.tobytes(), ub.tobytes())
                else:
                    self.assertLess(np.abs(ua - ub).max(), KERNEL_TOL * np.abs(ub).max())
        return self.replayed(ours), self.replayed(theirs)

    @staticmethod
    def timeline(result: dict) -> list[tuple]:
        return [(d["step"], d["action"], d["reason"]) for d in result["decisions"]]

    def test_jacobian_run_replays_like_the_sidecars_recording(self) -> None:
        from test_torch_adapter import mlp
        ours, theirs, _ = self.train(mlp(seed=22), "jacobian", 600, lr=0.1, every=25)
        mine, server = self.compare(ours, theirs, exact_kernel=False)
        # A timeline worth comparing: warm-up, then CONTINUE for several reasons (feature learning, large predicted
        # gain, catapult: the 843-parameter MLP keeps fitting the 8 noisy probe labels, so it does not stop).
        self.assertEqual(mine["snapshots"], 24)
        self.assertGreaterEqual(len({d["reason"] for d in mine["decisions"]}), 4, self.timeline(mine))
        self.assertEqual(self.timeline(mine), self.timeline(server))
        self.assertEqual((mine["stopStep"], mine["stopReason"], mine["snapshots"], mine["lastStep"]),
                         (server["stopStep"], server["stopReason"], server["snapshots"], server["lastStep"]))
        self.refusals(ours)

    def test_gram_run_replays_identically(self) -> None:
        torch = self.torch
        torch.manual_seed(3)
        ours, theirs, _ = self.train(torch.nn.Linear(6, 3), "gram", 250, lr=0.1, reduction="trace")
        mine, server = self.compare(ours, theirs, exact_kernel=True)
        # The linear student reaches the noise floor: the default policy stops it (KESS), on both recordings.
        self.assertEqual((mine["snapshots"], mine["stopReason"]), (25, "REASON_KESS_REACHED"), self.timeline(mine))
        mine.pop("runId"), server.pop("runId")
        self.assertEqual(mine, server)

    def refusals(self, ours: Path) -> None:
        lines = [json.dumps(line) for line in read_lines(ours)]  # (NaN → Python's NaN; fine for the header)
        header = json.loads(lines[0])
        header["version"] = 0
        old = self.dir / "old.ntkrec.jsonl.gz"
        with gzip.open(old, "wt") as f:
            f.write(json.dumps(header) + "\n")
        r = replay(old, self.policy)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(f"{old}: recording format version 0 (written by ntk-sidecar {header['sidecarVersion']}); this "
                      "ntk-sidecar reads version 1 only", r.stderr)
        corrupt = self.dir / "corrupt.ntkrec.jsonl.gz"
        data = bytearray(ours.read_bytes())
        corrupt.write_bytes(bytes(data[:10]) + bytes(b ^ 0x5A for b in data[10:40]) + bytes(data[40:]))
        r = replay(corrupt, self.policy)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stderr, rf"{corrupt} is not a gzip-compressed recording|{corrupt}: line \d+ is not JSON")


if __name__ == "__main__":
    unittest.main()
