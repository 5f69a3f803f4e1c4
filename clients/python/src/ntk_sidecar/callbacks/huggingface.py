"""Hugging Face Transformers: `control.should_training_stop = True` when the sidecar says STOP.

    monitor = SidecarMonitor(client, ntk.snapshot, snapshot_every=200)
    trainer = Trainer(..., callbacks=[transformers_callback(monitor)])

Hooks (transformers.TrainerCallback): on_step_end(args, state, control, **kwargs) after each optimizer step
(state.global_step counts it); on_log(args, state, control, logs=None, **kwargs) carries the training loss every
`logging_steps`, so scalars go out with the last logged loss (none before the first log, and snapshots then use
the probe loss); on_train_end ends the run.
"""

from __future__ import annotations

from typing import Any

from ..monitor import SidecarMonitor, as_float


def _learning_rate(kwargs: dict[str, Any]) -> float:
    scheduler = kwargs.get("lr_scheduler")
    try:
        if scheduler is not None:
            return float(scheduler.get_last_lr()[0])
        return float(kwargs["optimizer"].param_groups[0]["lr"])
    except (AttributeError, IndexError, KeyError, TypeError):
        return 0.0


class HuggingFaceLogic:
    def __init__(self, monitor: SidecarMonitor) -> None:
        super().__init__()
        self.monitor = monitor
        self.last_loss: float | None = None

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self.last_loss = as_float(logs["loss"])

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.monitor.on_step(int(state.global_step), self.last_loss, learning_rate=_learning_rate(kwargs)):
            control.should_training_stop = True
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.monitor.close()


def transformers_callback(monitor: SidecarMonitor) -> Any:
    """A transformers.TrainerCallback instance driving `monitor`."""
    try:
        from transformers import TrainerCallback
    except ImportError as err:
        raise ImportError("transformers_callback needs transformers: pip install 'ntk-sidecar[transformers]'") from err
    cls = type("NtkSidecarTrainerCallback", (HuggingFaceLogic, TrainerCallback), {})
    return cls(monitor)
