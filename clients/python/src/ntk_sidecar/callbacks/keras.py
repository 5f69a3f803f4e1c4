"""Keras: `model.stop_training = True` when the sidecar says STOP.

    monitor = SidecarMonitor(client, snapshot_fn, snapshot_every=200)
    model.fit(x, y, callbacks=[keras_callback(monitor)])

Hooks (keras.callbacks.Callback): on_train_batch_end(batch, logs=None) after each batch (`batch` restarts every
epoch, so the callback counts steps itself); logs["loss"] is the running loss; on_train_end ends the run. Keras
sets `self.model` through set_model. Snapshots need a Jacobian source for the backend (e.g. JaxNtk with the JAX
backend) or none (scalars only).
"""

from __future__ import annotations

from typing import Any

from ..monitor import SidecarMonitor, as_float


class KerasLogic:
    def __init__(self, monitor: SidecarMonitor) -> None:
        super().__init__()
        self.monitor = monitor
        self.steps = 0

    def _learning_rate(self) -> float:
        try:
            lr = self.model.optimizer.learning_rate  # type: ignore[attr-defined]
            return float(lr.numpy() if hasattr(lr, "numpy") else lr)
        except (AttributeError, TypeError, ValueError):
            return 0.0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.steps += 1
        loss = as_float((logs or {}).get("loss"))
        if self.monitor.on_step(self.steps, loss, learning_rate=self._learning_rate()):
            self.model.stop_training = True  # type: ignore[attr-defined]

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.monitor.close()


def keras_callback(monitor: SidecarMonitor) -> Any:
    """A keras.callbacks.Callback instance driving `monitor` (Keras 3, or tf.keras as a fallback)."""
    try:
        import keras
        base = keras.callbacks.Callback
    except ImportError:
        try:
            from tensorflow import keras as tf_keras
            base = tf_keras.callbacks.Callback
        except ImportError as err:
            raise ImportError("keras_callback needs Keras: pip install 'ntk-sidecar[keras]'") from err
    cls = type("NtkSidecarKerasCallback", (KerasLogic, base), {})
    return cls(monitor)
