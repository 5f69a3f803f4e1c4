"""TrainerMessages of a snapshot: header, chunks (size limit, offsets, row-major data, CRC), end counts; RunStart."""

import math
import unittest

import numpy as np

import support  # noqa: F401
from ntk_sidecar import RunSpec, Snapshot, TensorData
from ntk_sidecar._proto import pb
from ntk_sidecar.crc32c import crc32c_bytewise
from ntk_sidecar.dtypes import ITEMSIZE, decode, round_trip
from ntk_sidecar.messages import run_end, run_start, scalars, snapshot_messages


def reassemble(messages, rows_by_kind):
    """A local reassembler: places every chunk by its offset and checks coverage (each column/row once)."""
    header = messages[0].header
    specs = {t.tensor: t for t in header.tensors}
    dense = {k: np.full((s.rows, s.cols), np.nan) for k, s in specs.items()}
    seen = {k: np.zeros(s.cols if k in (pb.TENSOR_KIND_JACOBIAN, pb.TENSOR_KIND_SKETCH) else s.rows, int)
            for k, s in specs.items()}
    names = {pb.DTYPE_F32: "f32", pb.DTYPE_F64: "f64", pb.DTYPE_F16: "f16", pb.DTYPE_BF16: "bf16"}
    for m in messages[1:-1]:
        c = m.chunk
        values = decode(c.data, names[c.dtype], (c.rows, c.cols))
        if c.tensor in (pb.TENSOR_KIND_JACOBIAN, pb.TENSOR_KIND_SKETCH):
            dense[c.tensor][:, c.offset:c.offset + c.cols] = values
            seen[c.tensor][c.offset:c.offset + c.cols] += 1
        else:
            dense[c.tensor][c.offset:c.offset + c.rows] = values
            seen[c.tensor][c.offset:c.offset + c.rows] += 1
    return header, dense, seen


class SnapshotMessagesTest(unittest.TestCase):
    def setUp(self) -> None:
        rng = np.random.default_rng(1)
        self.n, self.c, self.p = 5, 3, 401
        self.jac3 = rng.standard_normal((self.n, self.c, self.p))
        self.logits = rng.standard_normal((self.n, self.c))

    def test_jacobian_chunks_cover_each_column_once_within_the_limit(self) -> None:
        for dtype in ("f32", "f64", "f16", "bf16"):
            # Two blocks (as two parameter groups would give), split again into 200-byte chunks.
            flat = self.jac3.reshape(self.n * self.c, self.p)
            tensor = TensorData("jacobian", dtype, 15, self.p, [(0, flat[:, :150]), (150, flat[:, 150:])])
            snap = Snapshot(step=7, train_loss=0.25, tensors=[tensor, TensorData.dense("logits", self.logits)],
                            learning_rate=0.1, samples_seen=70, compute_spent=3.5)
            msgs = list(snapshot_messages(snap, 9, max_chunk_bytes=200, checksum=True))
            self.assertEqual(msgs[0].WhichOneof("kind"), "header")
            self.assertEqual(msgs[-1].WhichOneof("kind"), "end")
            header, dense, seen = reassemble(msgs, None)
            self.assertEqual((header.snapshot_id, header.step, header.train_loss, header.learning_rate,
                              header.samples_seen, header.compute_spent), (9, 7, 0.25, 0.1, 70, 3.5))
            self.assertEqual(header.kernel_reduction, pb.KERNEL_REDUCTION_FULL)
            self.assertEqual([(t.tensor, t.rows, t.cols) for t in header.tensors],
                             [(pb.TENSOR_KIND_JACOBIAN, 15, self.p), (pb.TENSOR_KIND_LOGITS, 5, 3)])
            np.testing.assert_array_equal(seen[pb.TENSOR_KIND_JACOBIAN], np.ones(self.p, int))
            np.testing.assert_array_equal(seen[pb.TENSOR_KIND_LOGITS], np.ones(5, int))
            # Sample-major rows (row i·C + c holds output c of sample i), values as rounded by the dtype.
            want = round_trip(flat, dtype)
            np.testing.assert_array_equal(dense[pb.TENSOR_KIND_JACOBIAN], want)
            for i in range(self.n):
                for c in range(self.c):
                    np.testing.assert_array_equal(dense[pb.TENSOR_KIND_JACOBIAN][i * self.c + c],
                                                  round_trip(self.jac3[i, c], dtype))
            chunks = [m.chunk for m in msgs[1:-1]]
            for ch in chunks:
                self.assertLessEqual(len(ch.data), 200)
                chunk_dtype = dtype if ch.tensor == pb.TENSOR_KIND_JACOBIAN else "f32"  # logits travel as f32
                self.assertEqual(len(ch.data), ch.rows * ch.cols * ITEMSIZE[chunk_dtype])
                self.assertEqual(ch.snapshot_id, 9)
                self.assertEqual(ch.crc32c, crc32c_bytewise(ch.data))
            # No chunk straddles the block boundary at column 150.
            self.assertTrue(any(ch.offset == 150 for ch in chunks if ch.tensor == pb.TENSOR_KIND_JACOBIAN))
            end = msgs[-1].end
            self.assertEqual((end.snapshot_id, end.chunk_count, end.total_bytes),
                             (9, len(chunks), sum(len(ch.data) for ch in chunks)))

    def test_gram_rows_and_unchecked_crc(self) -> None:
        k = np.arange(36.0).reshape(6, 6)
        snap = Snapshot(step=1, train_loss=1.0, tensors=[TensorData.dense("gram", k, "f64")], reduction="trace")
        msgs = list(snapshot_messages(snap, 1, max_chunk_bytes=100, checksum=False))
        header, dense, seen = reassemble(msgs, None)
        self.assertEqual(header.kernel_reduction, pb.KERNEL_REDUCTION_TRACE)
        np.testing.assert_array_equal(dense[pb.TENSOR_KIND_GRAM], k)
        np.testing.assert_array_equal(seen[pb.TENSOR_KIND_GRAM], np.ones(6, int))
        # 48 bytes per row, 100-byte limit: 2 rows per chunk, offsets 0, 2, 4; crc32c 0 = not checked.
        self.assertEqual([(m.chunk.offset, m.chunk.rows) for m in msgs[1:-1]], [(0, 2), (2, 2), (4, 2)])
        self.assertTrue(all(m.chunk.crc32c == 0 for m in msgs[1:-1]))

    def test_snapshot_validation(self) -> None:
        j = TensorData.dense("jacobian", np.zeros((4, 3)))
        g = TensorData.dense("gram", np.zeros((4, 4)))
        with self.assertRaisesRegex(ValueError, "one kernel source"):
            Snapshot(step=1, train_loss=0.0, tensors=[j, g])
        with self.assertRaisesRegex(ValueError, r"does not fit 4 rows x 3 columns"):
            TensorData("jacobian", "f32", 4, 3, [(2, np.zeros((4, 2)))])
        with self.assertRaisesRegex(ValueError, "shape"):
            TensorData.dense("jacobian", np.zeros(4))

    def test_run_start_scalars_end(self) -> None:
        targets = np.eye(3)[[0, 2, 1, 1]]
        msg = run_start(RunSpec(run_id="r1", num_samples=4, num_outputs=3, job_id="j", rank=1, world_size=2,
                                targets=targets, loss="mse", loss_scale=1 / 24, optimizer="momentum", momentum=0.9,
                                learning_rate=0.05, param_count=1234, sketch_dim=64, sketch_seed=11,
                                max_steps=500, warmup_steps=10, labels={"a": "b"}))
        s = msg.start
        self.assertEqual((s.run_id, s.job_id, s.rank, s.world_size, s.param_count), ("r1", "j", 1, 2, 1234))
        self.assertEqual((s.probe.num_samples, s.probe.num_outputs), (4, 3))
        self.assertEqual(list(s.probe.targets.shape), [4, 3])
        np.testing.assert_array_equal(decode(s.probe.targets.data, "f32", (4, 3)), targets)
        self.assertEqual((s.loss.kind, s.loss.scale), (pb.LOSS_KIND_MSE, 1 / 24))
        self.assertEqual((s.optimizer.kind, s.optimizer.momentum), (pb.OPTIMIZER_KIND_MOMENTUM, 0.9))
        self.assertEqual((s.sketch.kind, s.sketch.dim, s.sketch.seed), (pb.SKETCH_KIND_GAUSSIAN, 64, 11))
        self.assertEqual((s.budget.max_steps, s.warmup_steps, dict(s.labels)), (500, 10, {"a": "b"}))
        sc = scalars(3, math.nan, 0.1, evals={"acc": 0.5}).scalars
        self.assertTrue(math.isnan(sc.train_loss))
        self.assertEqual((sc.step, dict(sc.eval)), (3, {"acc": 0.5}))
        self.assertEqual(run_end("stopped").finish.status, pb.RUN_STATUS_STOPPED)
        with self.assertRaisesRegex(ValueError, "n = 0"):
            RunSpec(run_id="x", num_samples=0)


class GeneralisationInputsTest(unittest.TestCase):
    """RunStart.train_set_size, EvalProbe and label_noise_sigma; TENSOR_KIND_EVAL_LOGITS (issue 11 item 2), all
    decoded back from the serialized bytes."""

    @staticmethod
    def wire(msg):
        return pb.TrainerMessage.FromString(msg.SerializeToString())

    def test_run_start_carries_m_eval_probe_and_sigma(self) -> None:
        labels = np.array([3, 0, 9, 9, 1, 2, 0])
        spec = RunSpec(run_id="g", num_samples=4, num_outputs=10, train_set_size=1437, eval_targets=labels,
                       eval_sample_ids_hash="abc", label_noise_sigma=0.25)
        self.assertEqual(spec.eval_samples, 7)  # taken from the labels
        s = self.wire(run_start(spec)).start
        self.assertEqual((s.train_set_size, s.label_noise_sigma), (1437, 0.25))
        self.assertTrue(s.HasField("eval_probe"))
        e = s.eval_probe
        self.assertEqual((e.num_samples, e.held_out, e.sample_ids_hash), (7, False, "abc"))
        self.assertEqual((e.targets.dtype, list(e.targets.shape)), (pb.DTYPE_F32, [7]))
        np.testing.assert_array_equal(decode(e.targets.data, "f32", (7,)), labels)
        # Regression targets n_eval x C, held out; no M, no σ.
        y = np.linspace(-1, 1, 6).reshape(3, 2)
        s = self.wire(run_start(RunSpec(run_id="h", num_samples=2, num_outputs=2, eval_targets=y,
                                        eval_held_out=True))).start
        self.assertEqual((s.train_set_size, s.label_noise_sigma), (0, 0.0))
        self.assertEqual((s.eval_probe.num_samples, s.eval_probe.held_out, list(s.eval_probe.targets.shape)),
                         (3, True, [3, 2]))
        np.testing.assert_array_equal(decode(s.eval_probe.targets.data, "f32", (3, 2)), y.astype(np.float32))
        # No evaluation probe: the field is absent.
        self.assertFalse(self.wire(run_start(RunSpec(run_id="j", num_samples=2))).start.HasField("eval_probe"))

    def test_eval_logits_travel_as_row_blocks(self) -> None:
        rng = np.random.default_rng(5)
        logits, ev = rng.standard_normal((4, 3)), rng.standard_normal((50, 3))
        gram = rng.standard_normal((12, 12))
        snap = Snapshot(step=3, train_loss=0.5, tensors=[
            TensorData.dense("gram", gram @ gram.T, "f64"), TensorData.dense("logits", logits),
            TensorData.dense("eval_logits", ev)])
        spec = RunSpec(run_id="e", num_samples=4, num_outputs=3, eval_targets=np.arange(50) % 3)
        spec.check_snapshot(snap)
        msgs = [self.wire(m) for m in snapshot_messages(snap, 2, max_chunk_bytes=120)]
        header, dense, seen = reassemble(msgs, None)
        self.assertEqual([(t.tensor, t.dtype, t.rows, t.cols) for t in header.tensors],
                         [(pb.TENSOR_KIND_GRAM, pb.DTYPE_F64, 12, 12), (pb.TENSOR_KIND_LOGITS, pb.DTYPE_F32, 4, 3),
                          (pb.TENSOR_KIND_EVAL_LOGITS, pb.DTYPE_F32, 50, 3)])
        np.testing.assert_array_equal(dense[pb.TENSOR_KIND_EVAL_LOGITS], round_trip(ev, "f32"))
        np.testing.assert_array_equal(seen[pb.TENSOR_KIND_EVAL_LOGITS], np.ones(50, int))
        # 12 bytes per row, 120-byte chunks: 10 whole rows each.
        ev_chunks = [m.chunk for m in msgs[1:-1] if m.chunk.tensor == pb.TENSOR_KIND_EVAL_LOGITS]
        self.assertEqual([(c.offset, c.rows, c.cols) for c in ev_chunks], [(a, 10, 3) for a in range(0, 50, 10)])
        # Eval logits are not a kernel source: a snapshot may carry them with only the logits, or alone.
        Snapshot(step=1, train_loss=0.0, tensors=[TensorData.dense("eval_logits", ev)])

    def test_validation_errors_name_the_shapes(self) -> None:
        with self.assertRaisesRegex(ValueError, r"eval_targets has shape \(5,\); expected \(6,\)"):
            RunSpec(run_id="x", num_samples=2, num_outputs=3, eval_samples=6, eval_targets=np.zeros(5))
        with self.assertRaisesRegex(ValueError, r"eval_targets has shape \(6, 2\); expected \(6,\) class labels "
                                                r"or \(6, 3\)"):
            RunSpec(run_id="x", num_samples=2, num_outputs=3, eval_targets=np.zeros((6, 2)))
        with self.assertRaisesRegex(ValueError, r"integers in \[0, 3\)"):
            RunSpec(run_id="x", num_samples=2, num_outputs=3, eval_targets=np.array([0, 1, 3]))
        with self.assertRaisesRegex(ValueError, r"targets has shape \(3,\); expected \(2,\)"):
            RunSpec(run_id="x", num_samples=2, num_outputs=3, targets=np.array([0, 1, 2]))
        with self.assertRaisesRegex(ValueError, "n = 200 > train_set_size M = 100"):
            RunSpec(run_id="x", num_samples=200, train_set_size=100)
        with self.assertRaisesRegex(ValueError, "n_eval = 2048 > train_set_size M = 1437"):
            RunSpec(run_id="x", num_samples=16, train_set_size=1437, eval_targets=np.zeros(2048))
        RunSpec(run_id="x", num_samples=16, train_set_size=1437, eval_targets=np.zeros(2048), eval_held_out=True)
        with self.assertRaisesRegex(ValueError, "label_noise_sigma"):
            RunSpec(run_id="x", num_samples=2, label_noise_sigma=-0.1)
        with self.assertRaisesRegex(ValueError, "without an evaluation probe"):
            RunSpec(run_id="x", num_samples=2, eval_held_out=True)
        with self.assertRaisesRegex(ValueError, r"512 samples needs their labels: set eval_targets \(\(512,\) class"):
            RunSpec(run_id="x", num_samples=2, num_outputs=3, eval_samples=512)
        with self.assertRaisesRegex(ValueError, "different numbers of outputs C"):
            Snapshot(step=1, train_loss=0.0, tensors=[TensorData.dense("logits", np.zeros((4, 3))),
                                                      TensorData.dense("eval_logits", np.zeros((9, 2)))])
        spec = RunSpec(run_id="x", num_samples=4, num_outputs=3, eval_targets=np.zeros(9))
        bad = {
            "eval logits are 8 x 3; the evaluation probe is n_eval x C = 9 x 3": [("eval_logits", (8, 3))],
            "logits are 5 x 3; the probe set is n x C = 4 x 3": [("logits", (5, 3))],
            r"Gram is 4 x 4; expected 12 x 12": [("gram", (4, 4))],
            r"jacobian has 4 rows; expected N = n·C = 12": [("jacobian", (4, 7))],
        }
        for message, tensors in bad.items():
            snap = Snapshot(step=1, train_loss=0.0, tensors=[TensorData.dense(k, np.zeros(s)) for k, s in tensors])
            with self.assertRaisesRegex(ValueError, message):
                spec.check_snapshot(snap)
        traced = Snapshot(step=1, train_loss=0.0, tensors=[TensorData.dense("gram", np.eye(4), "f64")],
                          reduction="trace")
        spec.check_snapshot(traced)  # a traced Gram is n x n
        with self.assertRaisesRegex(ValueError, "declares no evaluation probe"):
            RunSpec(run_id="y", num_samples=4, num_outputs=3).check_snapshot(
                Snapshot(step=1, train_loss=0.0, tensors=[TensorData.dense("eval_logits", np.zeros((9, 3)))]))


if __name__ == "__main__":
    unittest.main()
