"""A sidecar Decision (docs/design.md §3) as a plain frozen dataclass, so callers never touch protobuf objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._proto import pb


def _enum_name(enum: Any, value: int, prefix: str) -> str:
    name = enum.Name(value) if value in enum.values() else str(value)
    return name[len(prefix):] if name.startswith(prefix) else name


@dataclass(frozen=True)
class Decision:
    run_id: str
    step: int
    action: str            # "CONTINUE" or "STOP" (the ACTION_ prefix dropped)
    reason: str            # e.g. "BUDGET", "WARMUP" (the REASON_ prefix dropped)
    enforced: bool         # False in shadow mode: log what would happen, do not stop
    snapshot_id: int = 0
    job_id: str = ""
    detail: str = ""
    evidence: dict[str, float] = field(default_factory=dict)
    kess_step: float | None = None
    predicted_loss_at_kess: float | None = None
    policy: str = ""
    decided_at_unix_ms: int = 0

    @property
    def stop(self) -> bool:
        """The sidecar says STOP (enforced or not)."""
        return self.action == "STOP"

    @staticmethod
    def from_proto(d: Any) -> "Decision":
        return Decision(
            run_id=d.run_id, job_id=d.job_id, snapshot_id=d.snapshot_id, step=d.step,
            action=_enum_name(pb.Action, d.action, "ACTION_"), reason=_enum_name(pb.Reason, d.reason, "REASON_"),
            enforced=d.enforced, detail=d.detail, evidence=dict(d.evidence),
            kess_step=d.kess_step if d.HasField("kess_step") else None,
            predicted_loss_at_kess=d.predicted_loss_at_kess if d.HasField("predicted_loss_at_kess") else None,
            policy=d.policy, decided_at_unix_ms=d.decided_at_unix_ms)

    def describe(self) -> str:
        mode = "" if self.enforced else " (shadow mode: not enforced)"
        return f"{self.action} at step {self.step}, reason {self.reason}{mode}: {self.detail}"
