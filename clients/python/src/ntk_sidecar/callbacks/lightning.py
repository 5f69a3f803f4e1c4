"""PyTorch Lightning: `trainer.should_stop = True` when the sidecar says STOP.

    monitor = SidecarMonitor(client, ntk.snapshot, snapshot_every=200)
    trainer = L.Trainer(callbacks=[lightning_callback(monitor)])

Hooks (Lightning's public Callback API): on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx) runs
after each optimizer step (trainer.global_step already counts it); on_train_end / on_exception end the run.
With several ranks, give rank 0 the client and every rank `sync=DistributedStop().sync` so all set should_stop on
the same step.
"""

from __future__ import annotations

from typing import Any

from ..monitor import SidecarMonitor, as_float


def _loss_of(outputs: Any) -> float | None:
    if isinstance(outputs, dict):
        outputs = outputs.get("loss")
    return as_float(outputs)


def _learning_rate(trainer: Any) -> float:
    try:
        return float(trainer.optimizers[0].param_groups[0]["lr"])
    except (AttributeError, IndexError, KeyError, TypeError):
        return 0.0


class LightningLogic:
    def __init__(self, monitor: SidecarMonitor) -> None:
        super().__init__()
        self.monitor = monitor

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        step = int(trainer.global_step)
        if self.monitor.on_step(step, _loss_of(outputs), learning_rate=_learning_rate(trainer)):
            trainer.should_stop = True

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.monitor.close()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.monitor.close("failed")


def _lightning_callback_base() -> Any:
    try:
        import lightning.pytorch as pl  # Lightning >= 2.0
    except ImportError:
        try:
            import pytorch_lightning as pl
        except ImportError as err:
            raise ImportError("lightning_callback needs PyTorch Lightning: pip install 'ntk-sidecar[lightning]'") from err
    return pl.Callback


def lightning_callback(monitor: SidecarMonitor) -> Any:
    """A lightning Callback instance driving `monitor`."""
    base = _lightning_callback_base()
    cls = type("NtkSidecarLightningCallback", (LightningLogic, base), {})
    return cls(monitor)
