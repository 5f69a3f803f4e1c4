"""SidecarMonitor (cadence, enforced STOP, shadow mode, rank sync) and the framework callbacks' logic, driven
through duck-typed stand-ins of Lightning's Trainer, transformers' TrainerState/TrainerControl and a Keras
Model. The real framework classes are exercised when installed; otherwise those tests skip LOUDLY."""

import logging
import unittest
from types import SimpleNamespace

import numpy as np

import support
from ntk_sidecar import Decision, SidecarMonitor, Snapshot
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
