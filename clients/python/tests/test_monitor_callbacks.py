"""SidecarMonitor (cadence, enforced STOP, shadow mode, rank sync) and the framework callbacks' logic, driven
through duck-typed stand-ins of Lightning's Trainer, transformers' TrainerState/TrainerControl and a Keras
Model. The real framework classes are exercised when installed; otherwise those tests skip LOUDLY."""

import logging
import unittest
from types import SimpleNamespace

import numpy as np

import support
from ntk_sidecar import Decision, SidecarMonitor, Snapshot, SnapshotSchedule
from ntk_sidecar.callbacks.huggingface import HuggingFaceLogic, transformers_callback
from ntk_sidecar.callbacks.keras import KerasLogic, keras_callback
from ntk_sidecar.callbacks.lightning import LightningLogic, lightning_callback


class FakeClient:
    """Records what the monitor sends; the test sets `decision` as the sidecar would."""

    def __init__(self) -> None:
        self.scalars: list[tuple[int, float, float]] = []
        self.snapshots: list[int] = []
        self.decision: Decision | None = None
        self.closed: str | None = None

    def submit(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot.step)

    def send_scalars(self, step, train_loss, learning_rate=0.0, samples_seen=0, compute_spent=0.0, evals=None):
        self.scalars.append((step, train_loss, learning_rate))

    def close(self, status="completed", timeout=10.0) -> None:
        self.closed = status


def stop(step: int, enforced: bool = True) -> Decision:
    return Decision(run_id="r", step=step, action="STOP", reason="BUDGET", enforced=enforced, detail="budget")


def snapshot_fn(step, train_loss, **header):
    return Snapshot(step=step, train_loss=1.0 if train_loss is None else train_loss)


class MonitorTest(unittest.TestCase):
    def test_cadence(self) -> None:
        client = FakeClient()
        monitor = SidecarMonitor(client, snapshot_fn, snapshot_every=5, scalars_every=2, scalars_interval_s=0)
        for step in range(1, 13):
            self.assertFalse(monitor.on_step(step, loss=1.0 / step, learning_rate=0.1))
        self.assertEqual(client.snapshots, [1, 6, 11])  # first step, then every 5
        self.assertEqual([s for s, _, _ in client.scalars], [2, 4, 6, 8, 10, 12])
        self.assertEqual(client.scalars[0], (2, 0.5, 0.1))
        self.assertEqual(monitor.snapshots_taken, 3)
        monitor.on_step(13, loss=None)  # no loss: no scalars (a 0 or NaN loss would be data)
        self.assertEqual(len(client.scalars), 6)

    def test_scalars_rate_is_capped_in_time(self) -> None:
        now = [0.0]
        client = FakeClient()
        monitor = SidecarMonitor(client, None, scalars_every=1, scalars_interval_s=1.0, clock=lambda: now[0])
        for step in range(1, 11):
            now[0] = 0.3 * step  # 0.3 s per step: at most one Scalars per second
            monitor.on_step(step, 0.5)
        self.assertEqual([s for s, _, _ in client.scalars], [1, 5, 9])  # t = 0.3, 1.5, 2.7
        monitor.on_step(11, float("nan"))  # divergence is news: sent at once
        self.assertEqual(client.scalars[-1][0], 11)

    def test_adaptive_schedule_steps(self) -> None:
        # Default: every 10 steps below step 100, then ×1.5 per snapshot (rounded) up to an interval of 200.
        want = [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 101, 116, 138, 172, 223, 299, 413, 584, 784, 984, 1184]
        self.assertEqual(SnapshotSchedule().steps(1, 1200), want)
        self.assertEqual(SnapshotSchedule(dense_every=1, dense_until=5, growth=2.0, max_every=8).steps(1, 40),
                         [1, 2, 3, 4, 5, 7, 11, 19, 27, 35])
        self.assertEqual(SnapshotSchedule(growth=1.0).steps(1, 150), list(range(1, 151, 10)))
        for bad in (dict(dense_every=0), dict(growth=0.9), dict(dense_every=50, max_every=20)):
            with self.assertRaises(ValueError):
                SnapshotSchedule(**bad)

    def test_default_monitor_follows_the_schedule_when_snapshots_are_cheap(self) -> None:
        now = [0.0]
        client = FakeClient()
        monitor = SidecarMonitor(client, snapshot_fn, timer=lambda: now[0])
        self.assertEqual((monitor.snapshot_every, monitor.overhead_budget), (None, 0.05))
        for step in range(1, 1201):
            now[0] += 0.01  # 10 ms steps, snapshots free
            monitor.on_step(step, 1.0)
        self.assertEqual(client.snapshots, SnapshotSchedule().steps(1, 1200))
        self.assertEqual(monitor.snapshots_deferred, 0)

    def test_governor_keeps_snapshot_time_under_the_budget(self) -> None:
        now = [0.0]
        client = FakeClient()

        def costly(step, train_loss, **header):
            now[0] += 0.2   # a snapshot costs 200 ms, a step 10 ms: the schedule alone would cost 50 % early on
            return snapshot_fn(step, train_loss, **header)

        monitor = SidecarMonitor(client, costly, timer=lambda: now[0])
        for step in range(1, 3001):
            now[0] += 0.01
            monitor.on_step(step, 1.0)
        train_s = 3000 * 0.01
        self.assertEqual(client.snapshots[0], 1)
        self.assertEqual(monitor.snapshots_taken, len(client.snapshots))
        # Every snapshot after the first waited until the budget covered it: total ≤ 5 % of training + the first.
        self.assertLessEqual(monitor.snapshot_seconds - 0.2, 0.05 * train_s + 1e-9)
        self.assertGreaterEqual(len(client.snapshots), 6)   # ~0.05·30 s/0.2 s = 7.5 (minus the first)
        self.assertGreater(monitor.snapshots_deferred, 0)
        self.assertTrue(set(client.snapshots) - set(SnapshotSchedule().steps(1, 3000)))  # deferred off-schedule
        self.assertAlmostEqual(monitor.overhead(), monitor.snapshot_seconds / train_s, places=3)

    def test_explicit_snapshot_every_wins_and_is_not_governed(self) -> None:
        now = [0.0]
        client = FakeClient()

        def costly(step, train_loss, **header):
            now[0] += 1.0
            return snapshot_fn(step, train_loss, **header)

        monitor = SidecarMonitor(client, costly, snapshot_every=50, timer=lambda: now[0])
        self.assertIsNone(monitor.overhead_budget)
        for step in range(1, 201):
            now[0] += 0.01
            monitor.on_step(step, 1.0)
        self.assertEqual(client.snapshots, [1, 51, 101, 151])
        governed = SidecarMonitor(FakeClient(), costly, snapshot_every=50, overhead_budget=0.05, timer=lambda: now[0])
        for step in range(1, 201):
            now[0] += 0.01
            governed.on_step(step, 1.0)
        self.assertEqual(governed.snapshots_taken, 1)
        with self.assertRaises(ValueError):
            SidecarMonitor(client, costly, snapshot_every=5, schedule=SnapshotSchedule())

    def test_no_snapshots_for_a_refused_client(self) -> None:
        client = FakeClient()
        client.disabled = "RunStart refused: INVALID_ARGUMENT"
        monitor = SidecarMonitor(client, snapshot_fn, snapshot_every=1)
        for step in range(1, 5):
            monitor.on_step(step, 1.0)
        self.assertEqual((client.snapshots, monitor.snapshots_taken), ([], 0))

    def test_enforced_stop(self) -> None:
        client = FakeClient()
        with SidecarMonitor(client, None) as monitor:
            self.assertFalse(monitor.on_step(1, 1.0))
            client.decision = Decision(run_id="r", step=1, action="CONTINUE", reason="WARMUP", enforced=True)
            self.assertFalse(monitor.on_step(2, 1.0))
            client.decision = stop(2)
            self.assertTrue(monitor.on_step(3, 1.0))
            self.assertTrue(monitor.on_step(4, 1.0))  # stays stopped
        self.assertEqual(monitor.stop_step, 3)
        self.assertEqual(monitor.stop_decision, client.decision)
        self.assertEqual(client.closed, "stopped")

    def test_shadow_mode_logs_once_and_continues(self) -> None:
        for enforced, shadow in ((False, False), (True, True)):
            client = FakeClient()
            monitor = SidecarMonitor(client, None, shadow=shadow)
            with support.LogCapture() as logs:
                monitor.on_step(1, 1.0)
                client.decision = stop(1, enforced=enforced)
                for step in range(2, 10):
                    self.assertFalse(monitor.on_step(step, 1.0))
            self.assertEqual(monitor.would_stop_step, 2)
            self.assertIsNone(monitor.stop_step)
            would = [m for m in logs.messages(logging.WARNING) if "would stop at step 2" in m]
            self.assertEqual(len(would), 1, (enforced, shadow))
            monitor.close()
            self.assertEqual(client.closed, "completed")

    def test_sync_replaces_the_local_answer(self) -> None:
        seen: list[bool] = []

        def sync(local: bool) -> bool:  # rank 0 said STOP at step 3 (this rank has no client)
            seen.append(local)
            return len(seen) >= 3

        monitor = SidecarMonitor(None, None, sync=sync)
        self.assertEqual([monitor.on_step(s) for s in (1, 2, 3)], [False, False, True])
        self.assertEqual(seen, [False, False, False])
        self.assertEqual(monitor.stop_step, 3)


class CallbackLogicTest(unittest.TestCase):
    def test_lightning(self) -> None:
        client = FakeClient()
        cb = LightningLogic(SidecarMonitor(client, snapshot_fn, snapshot_every=100, scalars_every=1,
                                           scalars_interval_s=0))
        trainer = SimpleNamespace(global_step=0, should_stop=False,
                                  optimizers=[SimpleNamespace(param_groups=[{"lr": 0.03}])])
        for step in range(1, 4):
            trainer.global_step = step
            cb.on_train_batch_end(trainer, None, {"loss": np.float32(0.5)}, None, step - 1)
        self.assertFalse(trainer.should_stop)
        self.assertEqual(client.scalars[-1], (3, 0.5, 0.03))
        client.decision = stop(3)
        trainer.global_step = 4
        cb.on_train_batch_end(trainer, None, 0.25, None, 3)  # outputs may be the bare loss
        self.assertTrue(trainer.should_stop)
        cb.on_train_end(trainer, None)
        self.assertEqual(client.closed, "stopped")

    def test_huggingface(self) -> None:
        client = FakeClient()
        cb = HuggingFaceLogic(SidecarMonitor(client, snapshot_fn, snapshot_every=100, scalars_every=1,
                                             scalars_interval_s=0))
        state, control = SimpleNamespace(global_step=1), SimpleNamespace(should_training_stop=False)
        sched = SimpleNamespace(get_last_lr=lambda: [0.002])
        cb.on_step_end(None, state, control, lr_scheduler=sched)
        self.assertEqual(client.scalars, [])          # no loss logged yet
        self.assertEqual(client.snapshots, [1])       # the snapshot uses the probe loss instead
        cb.on_log(None, state, control, logs={"loss": 0.9, "learning_rate": 0.002})
        state.global_step = 2
        self.assertIs(cb.on_step_end(None, state, control, lr_scheduler=sched), control)
        self.assertEqual(client.scalars, [(2, 0.9, 0.002)])
        client.decision = stop(2)
        state.global_step = 3
        cb.on_step_end(None, state, control, optimizer=SimpleNamespace(param_groups=[{"lr": 0.002}]))
        self.assertTrue(control.should_training_stop)
        cb.on_train_end(None, state, control)
        self.assertEqual(client.closed, "stopped")

    def test_keras(self) -> None:
        client = FakeClient()
        cb = KerasLogic(SidecarMonitor(client, None, scalars_every=1, scalars_interval_s=0))
        cb.model = SimpleNamespace(stop_training=False, optimizer=SimpleNamespace(learning_rate=np.float32(0.01)))
        for batch in (0, 1, 0):  # `batch` restarts each epoch; steps keep counting
            cb.on_train_batch_end(batch, {"loss": np.float32(0.75)})
        self.assertEqual([s for s, _, _ in client.scalars], [1, 2, 3])
        self.assertAlmostEqual(client.scalars[0][2], 0.01, places=7)
        client.decision = stop(3)
        cb.on_train_batch_end(1, {"loss": 0.7})
        self.assertTrue(cb.model.stop_training)
        cb.on_train_end()
        self.assertEqual(client.closed, "stopped")


class RealFrameworkTest(unittest.TestCase):
    """The callbacks built on the real base classes (skipped loudly where the framework is missing)."""

    def test_lightning_callback(self) -> None:
        try:
            pl = support.require("lightning.pytorch", "lightning")
        except unittest.SkipTest:
            pl = support.require("pytorch_lightning", "lightning")
        cb = lightning_callback(SidecarMonitor(FakeClient(), None))
        self.assertIsInstance(cb, pl.Callback)

    def test_transformers_callback(self) -> None:
        transformers = support.require("transformers", "transformers")
        client = FakeClient()
        cb = transformers_callback(SidecarMonitor(client, None, scalars_every=1, scalars_interval_s=0))
        self.assertIsInstance(cb, transformers.TrainerCallback)
        control = transformers.TrainerControl()
        client.decision = stop(1)
        cb.on_step_end(None, transformers.TrainerState(global_step=1), control)
        self.assertTrue(control.should_training_stop)

    def test_keras_callback(self) -> None:
        keras = support.require("keras", "keras")
        cb = keras_callback(SidecarMonitor(FakeClient(), None))
        self.assertIsInstance(cb, keras.callbacks.Callback)


if __name__ == "__main__":
    unittest.main()
