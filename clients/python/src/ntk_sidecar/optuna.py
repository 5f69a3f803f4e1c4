"""Optuna integration: prune trials on the sidecar's decisions (issue 13 item 3).

    import optuna
    from ntk_sidecar.optuna import NtkPruner, attach_trial, raise_if_stopped

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
        ...
        with attach_trial(trial, ntk, learning_rate=lr, snapshot_every=50) as monitor:
            for step in range(1, steps + 1):
                loss = train_step()
                monitor.on_step(step, loss)
                trial.report(loss, step)           # only needed by a wrapped pruner
                if step % 10 == 0 and trial.should_prune():
                    raise optuna.TrialPruned(trial.user_attrs.get("ntk_sidecar.message", "pruned"))
        return accuracy

    study = optuna.create_study(study_name="sweep", pruner=NtkPruner(wrapped=optuna.pruners.MedianPruner()))

Mapping: trial `t` of study `s` is the sidecar run `"{s}/{t.number}"` in cohort `s` (`run_id_for`,
`trial_run_fields`; `attach_trial` attaches with exactly these).

`NtkPruner.prune` asks the sidecar (CheckStop with a short deadline, `lookup.DecisionLookup`) for the trial's
run and prunes on an **enforced STOP** (a shadow-mode STOP is recorded as `ntk_sidecar.would_stop_step`, never
pruned). **Fail open**: no answer in time, an unknown run or no decision yet means "don't prune" (after a
transport failure it does not ask again for `retry_after_s`). With `wrapped` (any Optuna pruner, e.g. MedianPruner
or SuccessiveHalvingPruner), `combine="any"` (default) prunes when either says so, `combine="all"` only when
both do. The reason is recorded on the trial as user attributes (`ntk_sidecar.pruned_by` = "sidecar",
"wrapped" or "both"; `ntk_sidecar.reason`, `.detail`, `.step`, `.message`). A pruner receives only a copy of the
trial (FrozenTrial), and Optuna 3.1 has no public way to write an attribute from there; NtkPruner writes it
through the study's storage by trial id, as Optuna's own SuccessiveHalvingPruner writes its rung values.

`trial.should_prune()` raises NotImplementedError in multi-objective studies; `raise_if_stopped(trial, monitor)`
works in every study: it reads the decision the trial's own client already holds (no RPC), records the reason
with `trial.set_user_attr`, ends the run on the sidecar as STOPPED and raises `optuna.TrialPruned(reason)`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

try:
    import optuna
except ImportError as err:  # pragma: no cover - exercised where optuna is missing
    raise ImportError(f"ntk_sidecar.optuna needs optuna ({err}); install it (pip install optuna, or Debian's "
                      "python3-optuna)") from err

from .attach import attach
from .decision import Decision
from .lookup import DecisionLookup
from .monitor import SidecarMonitor

LOG = logging.getLogger("ntk_sidecar")
ATTR = "ntk_sidecar."  # prefix of the user attributes written on a trial


def run_id_for(study_name: str, trial_number: int) -> str:
    """The sidecar run id of an Optuna trial: "{study_name}/{trial_number}"."""
    return f"{study_name}/{trial_number}"


def trial_run_fields(trial: Any) -> dict[str, Any]:
    """RunSpec fields of a live trial: run_id "{study}/{number}", cohort = the study name, labels naming both."""
    study = trial.study.study_name
    return {"run_id": run_id_for(study, trial.number), "cohort": study,
            "labels": {"optuna_study": study, "optuna_trial": str(trial.number)}}


def attach_trial(trial: Any, source: Any = None, **kwargs: Any) -> SidecarMonitor:
    """`ntk_sidecar.attach` for an Optuna trial: run id, cohort and labels from `trial_run_fields` (extra
    `labels` are merged in). Use the monitor as a context manager and call `on_step` every step; an
    `optuna.TrialPruned` leaving the block ends the run on the sidecar as STOPPED."""
    fields = trial_run_fields(trial)
    labels = {**fields.pop("labels"), **dict(kwargs.pop("labels", {}) or {})}
    monitor = attach(source, run_id=fields["run_id"], cohort=kwargs.pop("cohort", fields["cohort"]), labels=labels,
                     **kwargs)
    monitor.stopped_exceptions = (optuna.TrialPruned,)  # leaving the block pruned ends the run STOPPED, not FAILED
    return monitor


def _attrs(d: Decision, pruned_by: str) -> dict[str, Any]:
    return {ATTR + "pruned_by": pruned_by, ATTR + "action": d.action, ATTR + "reason": d.reason,
            ATTR + "detail": d.detail, ATTR + "step": d.step, ATTR + "enforced": d.enforced,
            ATTR + "message": f"ntk-sidecar: {d.describe()}"}


class NtkPruner(optuna.pruners.BasePruner):
    """Prune a trial when the sidecar's latest decision for its run is an enforced STOP (or when `wrapped`
    says so, per `combine`). Never raises: any failure reads as "don't prune" (from the sidecar's side)."""

    def __init__(self, target: str | None = None, *, wrapped: optuna.pruners.BasePruner | None = None,
                 combine: Literal["any", "all"] = "any", timeout_s: float = 0.5, retry_after_s: float = 5.0,
                 lookup: DecisionLookup | None = None, record: bool = True) -> None:
        if combine not in ("any", "all"):
            raise ValueError(f"combine = {combine!r}; use 'any' (prune if either says so) or 'all' (only if both do)")
        if wrapped is not None and not isinstance(wrapped, optuna.pruners.BasePruner):
            raise TypeError(f"wrapped must be an optuna pruner, got {type(wrapped).__name__}")
        self.wrapped = wrapped
        self.combine = combine
        self.record = record
        self.lookup = lookup or DecisionLookup(target, timeout_s=timeout_s, retry_after_s=retry_after_s)
        self._recorded: dict[int, tuple[Any, ...]] = {}

    def decision(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> Decision | None:
        """The sidecar's latest decision for the trial's run, or None (fail open)."""
        try:
            return self.lookup.decision(run_id_for(study.study_name, trial.number))
        except Exception as err:  # a bug here must not fail the trial
            LOG.exception("ntk-sidecar: NtkPruner lookup failed (not pruning): %s", err)
            return None

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        d = self.decision(study, trial)
        sidecar = d is not None and d.stop and d.enforced
        if self.wrapped is None:
            wrapped = None
            prune = sidecar
        else:
            wrapped = bool(self.wrapped.prune(study, trial))
            prune = (sidecar or wrapped) if self.combine == "any" else (sidecar and wrapped)
        if self.record:
            self._record(study, trial, d, sidecar, wrapped, prune)
        return prune

    def _record(self, study: Any, trial: Any, d: Decision | None, sidecar: bool, wrapped: bool | None,
                prune: bool) -> None:
        attrs: dict[str, Any] = {}
        if d is not None and d.stop and not d.enforced:
            attrs[ATTR + "would_stop_step"] = d.step
            attrs[ATTR + "would_stop_reason"] = d.reason
        if prune:
            by = "both" if sidecar and wrapped else "sidecar" if sidecar else "wrapped"
            if sidecar and d is not None:
                attrs.update(_attrs(d, by))
            else:
                name = type(self.wrapped).__name__
                attrs.update({ATTR + "pruned_by": by, ATTR + "reason": name,
                              ATTR + "message": f"pruned by {name} (the sidecar did not say STOP)"})
        if not attrs:
            return
        key = tuple(sorted(attrs.items()))
        if self._recorded.get(trial.number) == key:
            return
        try:
            for k, v in attrs.items():
                study._storage.set_trial_user_attr(trial._trial_id, k, v)
            self._recorded[trial.number] = key
        except Exception as err:  # e.g. the trial already finished: recording is best effort
            LOG.debug("ntk-sidecar: could not record the pruning reason on trial %s: %s", trial.number, err)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_recorded"] = {}
        return state


def stop_decision(monitor: Any) -> Decision | None:
    """The enforced STOP a monitor (SidecarMonitor) or client (SidecarClient) holds, else None. A monitor in
    shadow mode never has one."""
    if monitor is None or getattr(monitor, "shadow", False):
        return None
    d = getattr(monitor, "stop_decision", None)
    if d is None:
        client = getattr(monitor, "client", monitor)
        d = getattr(client, "decision", None)
    return d if d is not None and d.stop and d.enforced else None


def raise_if_stopped(trial: Any, monitor: Any, *, close: bool = True) -> None:
    """Raise `optuna.TrialPruned(reason)` when the trial's run holds an enforced STOP (works in multi-objective
    studies too). Records the reason on the trial (user attributes `ntk_sidecar.*`) and, with `close`, ends the
    run on the sidecar as STOPPED first (so leaving an `attach_trial` block does not report it FAILED)."""
    d = stop_decision(monitor)
    if d is None:
        return
    attrs = _attrs(d, "sidecar")
    for k, v in attrs.items():
        try:
            trial.set_user_attr(k, v)
        except Exception as err:
            LOG.debug("ntk-sidecar: could not record %s on trial %s: %s", k, getattr(trial, "number", "?"), err)
    if close:
        try:
            monitor.close("stopped")
        except Exception as err:
            LOG.debug("ntk-sidecar: closing the run after STOP failed: %s", err)
    raise optuna.TrialPruned(attrs[ATTR + "message"])


__all__ = ["NtkPruner", "attach_trial", "raise_if_stopped", "run_id_for", "stop_decision", "trial_run_fields"]
