"""Fail-open behaviour of SidecarClient without a healthy sidecar: nothing listening, and a sidecar that reads
slowly (a minimal grpcio server speaking the same proto). The training-thread calls must never wait."""

import logging
import time
import unittest
from concurrent import futures

import grpc
import numpy as np

import support
from ntk_sidecar import RunSpec, SidecarClient, Snapshot, TensorData
from ntk_sidecar._proto import pb

# Budget for one training-thread call (submit / send_scalars / should_stop): an O(1) append under a lock. On a
# loaded 2-core machine the worst case is a GIL hand-over (switch interval 5 ms) plus scheduling; 50 ms is far
# below any network timeout, so a call that waited on the network would still fail this.
CALL_BUDGET_S = 0.05


def snapshot(step: int, cols: int = 32_768) -> Snapshot:
    jac = np.full((8, cols), float(step), dtype=np.float32)  # 1 MiB of float32
    return Snapshot(step=step, train_loss=1.0, learning_rate=0.1, tensors=[TensorData.dense("jacobian", jac)])


class DeadSidecarTest(unittest.TestCase):
    def test_training_calls_never_wait_and_the_outage_is_logged_once(self) -> None:
        spec = RunSpec(run_id="offline", num_samples=4, num_outputs=2, learning_rate=0.1)
        with support.LogCapture() as logs:
            client = SidecarClient(f"127.0.0.1:{support.free_port()}", spec, max_queued_snapshots=2,
                                   backoff_initial_s=0.01, backoff_max_s=0.05)
            worst = 0.0
            for step in range(1, 101):
                t0 = time.perf_counter()
                client.submit(snapshot(step))
                client.send_scalars(step, 1.0 / step)
                self.assertFalse(client.should_stop())
                worst = max(worst, time.perf_counter() - t0)
            self.assertLess(worst, CALL_BUDGET_S)
            # Oldest dropped first: the two newest snapshots wait.
            queued = [item.payload.step for item in client._queue if item.kind == "snapshot"]
            self.assertEqual(queued, [99, 100])
            self.assertEqual(client.stats.snapshots_dropped, 98)
            self.assertIsNone(client.decision)
            t0 = time.perf_counter()
            self.assertIsNone(client.check_stop(timeout=0.3))
            self.assertLess(time.perf_counter() - t0, 2.0)
            self.assertTrue(support.wait_until(lambda: client.stats.connect_failures >= 5, 10))
            t0 = time.perf_counter()
            client.close(timeout=0.3)
            self.assertLess(time.perf_counter() - t0, 5.0)
        self.assertEqual(client.stats.snapshots_dropped, 100)  # the last two were never sent either
        warnings = logs.messages(logging.WARNING)
        lost = [m for m in warnings if "lost the sidecar" in m]
        self.assertEqual(len(lost), 1, warnings)  # once per outage, not per attempt or step
        self.assertTrue(any("closed with 2 snapshot(s) unsent" in m for m in warnings), warnings)
        self.assertFalse(client._thread.is_alive())


class SlowSidecar:
    """Accepts Attach and handles 20 messages per second (a sidecar busy with an O(N³) solve)."""

    def __init__(self, **limits: int) -> None:
        self.limits = {"max_chunk_bytes": 16 << 20, **limits}
        self.received: list[str] = []
        self.header_steps: list[int] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.stream_stream_rpc_method_handler(
            self._attach, request_deserializer=pb.TrainerMessage.FromString,
            response_serializer=pb.SidecarMessage.SerializeToString)
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("ntksidecar.v1.NtkSidecar",
                                                                                   {"Attach": handler}),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _attach(self, requests, context):
        for msg in requests:
            kind = msg.WhichOneof("kind")
            self.received.append(kind)
            if kind == "start":
                yield pb.SidecarMessage(accepted=pb.RunAccepted(run_id=msg.start.run_id, **self.limits))
            elif kind == "header":
                self.header_steps.append(msg.header.step)
            elif kind == "end":
                yield pb.SidecarMessage(ack=pb.SnapshotAck(snapshot_id=msg.end.snapshot_id, accepted=True))
            elif kind == "finish":
                return
            time.sleep(0.05)


class SlowSidecarTest(unittest.TestCase):
    def test_slow_sidecar_fills_the_queue_without_slowing_the_trainer(self) -> None:
        slow = SlowSidecar()
        try:
            spec = RunSpec(run_id="slow", num_samples=4, num_outputs=2, learning_rate=0.1)
            # 64 KiB chunks: a 1 MiB snapshot is 16 chunks, ~0.9 s at the slow sidecar's pace.
            client = SidecarClient(f"127.0.0.1:{slow.port}", spec, max_queued_snapshots=2, max_chunk_bytes=64 << 10)
            self.assertTrue(support.wait_until(lambda: client.connected, 10))
            worst = 0.0
            for step in range(1, 41):
                t0 = time.perf_counter()
                client.submit(snapshot(step))
                worst = max(worst, time.perf_counter() - t0)
                time.sleep(0.01)  # a 10 ms training step
            self.assertLess(worst, CALL_BUDGET_S)
            # 40 snapshots in ~0.4 s against ~0.9 s each: most are dropped, oldest first; none is lost.
            self.assertGreater(client.stats.snapshots_dropped, 30)
            self.assertTrue(client.flush(timeout=20))
            s = client.stats
            self.assertEqual(s.snapshots_sent + s.snapshots_dropped, 40)
            self.assertEqual(s.snapshots_accepted, s.snapshots_sent)
            self.assertEqual(s.snapshots_lost, 0)
            # Drop-oldest keeps the newest: the last snapshot submitted was sent, and steps only increase.
            self.assertEqual(len(slow.header_steps), s.snapshots_sent)
            self.assertEqual(slow.header_steps[-1], 40)
            self.assertEqual(slow.header_steps, sorted(slow.header_steps))
            client.close(timeout=10)
            self.assertEqual(slow.received[-1], "finish")
        finally:
            slow.server.stop(0)


class LimitsTest(unittest.TestCase):
    def test_snapshots_over_the_sidecars_limits_are_not_sent(self) -> None:
        # RunAccepted says: at most 600 KiB per snapshot. A 1 MiB snapshot never leaves; a small one does.
        sidecar = SlowSidecar(max_snapshot_bytes=600 << 10)
        try:
            spec = RunSpec(run_id="limits", num_samples=4, num_outputs=2, learning_rate=0.1)
            with support.LogCapture() as logs:
                client = SidecarClient(f"127.0.0.1:{sidecar.port}", spec, max_queued_snapshots=3)
                client.submit(snapshot(1))
                client.submit(snapshot(2))
                client.submit(snapshot(3, cols=1024))
                self.assertTrue(client.flush(timeout=20))
                client.close(timeout=10)
            self.assertEqual(client.stats.snapshots_too_large, 2)
            self.assertEqual(sidecar.header_steps, [3])
            errors = logs.messages(logging.ERROR)
            self.assertEqual(len(errors), 1, errors)  # logged once
            self.assertIn("1048576 bytes is over the sidecar's max snapshot bytes 614400", errors[0])
        finally:
            sidecar.server.stop(0)


class InvalidSnapshotTest(unittest.TestCase):
    def test_a_snapshot_that_does_not_fit_the_run_is_dropped_at_submit_and_logged_once(self) -> None:
        spec = RunSpec(run_id="shapes", num_samples=4, num_outputs=2, eval_targets=np.arange(10) % 2)
        client = SidecarClient(f"127.0.0.1:{support.free_port()}", spec, start=False)
        good = Snapshot(step=1, train_loss=1.0, tensors=[TensorData.dense("logits", np.zeros((4, 2))),
                                                         TensorData.dense("eval_logits", np.zeros((10, 2)))])
        bad = Snapshot(step=2, train_loss=1.0, tensors=[TensorData.dense("eval_logits", np.zeros((9, 2)))])
        with support.LogCapture() as logs:
            client.submit(good)
            client.submit(bad)
            client.submit(bad)  # never raises into the training loop
        self.assertEqual([item.payload.step for item in client._queue if item.kind == "snapshot"], [1])
        self.assertEqual((client.stats.snapshots_submitted, client.stats.snapshots_invalid), (3, 2))
        errors = logs.messages(logging.ERROR)
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("eval logits are 9 x 2; the evaluation probe is n_eval x C = 10 x 2", errors[0])
        client.close(timeout=0.1)


if __name__ == "__main__":
    unittest.main()
