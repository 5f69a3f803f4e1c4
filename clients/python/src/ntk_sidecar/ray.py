"""Ray Tune integration: stop trials on the sidecar's decisions (issue 13 item 3).

    from ray import tune
    from ray.tune.stopper import CombinedStopper, MaximumIterationStopper
    from ntk_sidecar.ray import NtkStopper, tune_run_fields

    def trainable(config):
        with attach(ntk, **tune_run_fields(), learning_rate=config["lr"]) as monitor:   # run "{experiment}/{trial_id}"
            for step in ...:
                monitor.on_step(step, loss)
                tune.report(loss=loss)            # or train.report / session.report, per Ray version

    stopper = CombinedStopper(NtkStopper(experiment="sweep"), MaximumIterationStopper(10_000))
    tune.Tuner(trainable, run_config=RunConfig(name="sweep", stop=stopper), tune_config=TuneConfig(scheduler=ASHA))

`NtkStopper` implements the public `ray.tune.Stopper` API: `__call__(trial_id, result)` is True when the
sidecar's latest decision for the trial's run is an **enforced STOP**; `stop_all()` is False (the sidecar decides
per trial: a cohort rule or a cohort budget arrives as a STOP for each run it stops). It composes with ASHA, PBT
or any other scheduler through `CombinedStopper` (or the scheduler itself). **Fail open**: no answer within
`timeout_s`, an unknown run or no decision yet means "don't stop" (after a transport failure the stopper does
not ask again for `retry_after_s`).

Run ids: the result's `run_id_key` ("ntk_run_id") when the trainable reports it; else `run_id(trial_id,
result)` when given; else "{experiment}/{trial_id}" with `experiment` (Ray's result dicts do not carry the
experiment name); else the bare trial id. `tune_run_fields()` gives the trainable the matching run_id and
cohort (= the experiment name) from Ray's context.

Ray is imported only here, and only for the `Stopper` base class: without Ray, `NtkStopper` is a plain object
with the same two methods (what the tests here exercise; Ray does not install on the CI machine).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from .decision import Decision
from .lookup import DecisionLookup

LOG = logging.getLogger("ntk_sidecar")


def _stopper_base() -> type:
    try:
        from ray.tune import Stopper  # type: ignore[import-not-found]
    except ImportError:
        return object
    return Stopper  # type: ignore[no-any-return]


_BASE = _stopper_base()
HAS_RAY = _BASE is not object


def run_id_for(experiment: str, trial_id: str) -> str:
    """The sidecar run id of a Tune trial: "{experiment}/{trial_id}"."""
    return f"{experiment}/{trial_id}"


def tune_run_fields(experiment: str | None = None) -> dict[str, Any]:
    """Inside a Tune trainable: RunSpec fields run_id "{experiment}/{trial_id}", cohort = the experiment, labels
    naming both, from Ray's context (needs Ray). `experiment` overrides the name Ray reports."""
    trial_id, name = _ray_context()
    experiment = experiment or name
    if not experiment:
        raise RuntimeError("the Tune experiment name is unknown here; pass tune_run_fields(experiment=...)")
    return {"run_id": run_id_for(experiment, trial_id), "cohort": experiment,
            "labels": {"tune_experiment": experiment, "tune_trial_id": trial_id}}


def _ray_context() -> tuple[str, str]:
    """(trial id, experiment name) of the current Tune trial, across the Ray 2.x session APIs."""
    try:
        from ray import train  # Ray >= 2.7
        ctx = train.get_context()
        return str(ctx.get_trial_id()), str(ctx.get_experiment_name() or "")
    except (ImportError, AttributeError):
        pass
    try:
        from ray.air import session  # Ray 2.0–2.6
        return str(session.get_trial_id()), str(session.get_experiment_name() or "")
    except (ImportError, AttributeError) as err:
        raise ImportError(f"ntk_sidecar.ray.tune_run_fields needs Ray Tune ({err}); install ray[tune]") from err


class NtkStopper(_BASE):  # type: ignore[misc, valid-type]
    """Stop a Tune trial when the sidecar says (enforced) STOP for its run. `stopped` maps trial ids to the
    deciding Decision (its reason and detail are logged once per trial); `would_stop` holds shadow-mode STOPs."""

    def __init__(self, target: str | None = None, *, experiment: str | None = None,
                 run_id: Callable[[str, Mapping[str, Any]], str] | None = None, run_id_key: str = "ntk_run_id",
                 timeout_s: float = 0.5, retry_after_s: float = 5.0, lookup: DecisionLookup | None = None) -> None:
        self.experiment = experiment
        self.run_id_fn = run_id
        self.run_id_key = run_id_key
        self.lookup = lookup or DecisionLookup(target, timeout_s=timeout_s, retry_after_s=retry_after_s)
        self.stopped: dict[str, Decision] = {}
        self.would_stop: dict[str, Decision] = {}

    def run_id(self, trial_id: str, result: Mapping[str, Any] | None) -> str:
        """The sidecar run of a trial (see the module docstring for the order of the rules)."""
        if result is not None and isinstance(result.get(self.run_id_key), str) and result[self.run_id_key]:
            return str(result[self.run_id_key])
        if self.run_id_fn is not None:
            return self.run_id_fn(trial_id, result or {})
        if self.experiment:
            return run_id_for(self.experiment, trial_id)
        return str(trial_id)

    def decision(self, trial_id: str, result: Mapping[str, Any] | None = None) -> Decision | None:
        """The sidecar's latest decision for the trial's run, or None (fail open)."""
        try:
            return self.lookup.decision(self.run_id(trial_id, result))
        except Exception as err:  # a bug here must not fail the experiment
            LOG.exception("ntk-sidecar: NtkStopper lookup failed (not stopping): %s", err)
            return None

    def __call__(self, trial_id: str, result: Mapping[str, Any]) -> bool:
        if trial_id in self.stopped:
            return True
        d = self.decision(trial_id, result)
        if d is None or not d.stop:
            return False
        if not d.enforced:
            if trial_id not in self.would_stop:
                self.would_stop[trial_id] = d
                LOG.warning("ntk-sidecar: shadow mode, would stop Tune trial %s: %s", trial_id, d.describe())
            return False
        self.stopped[trial_id] = d
        LOG.warning("ntk-sidecar: stopping Tune trial %s: %s", trial_id, d.describe())
        return True

    def stop_all(self) -> bool:
        return False


__all__ = ["HAS_RAY", "NtkStopper", "run_id_for", "tune_run_fields"]
