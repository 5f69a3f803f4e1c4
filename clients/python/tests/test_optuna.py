"""ntk_sidecar.optuna with a real Optuna (Debian python3-optuna 3.1).

Without a sidecar (fake decision sources and a dead port): run ids, pruning on an enforced STOP only, the reason
recorded on the trial, wrapping another pruner (any/all), fail-open timing against a dead sidecar, and
raise_if_stopped in a multi-objective study (where Trial.should_prune raises).

Against a real sidecar (RealStudyTest): a real study of 6 trials training a digits MLP with different learning
rates; the sweep's losers (the smallest learning rates) carry a per-run step budget, so the sidecar says STOP
(REASON_BUDGET) for them and NtkPruner prunes them from `trial.should_prune()`, with the reason on the trial; the
winners complete. Warm-up = budget (losers) or beyond the run (winners): only the budget can STOP, independent
of the per-run stopping policy. CohortStudyTest (issue 13's Done-when): a study of 8 real trainings without budgets,
the losers stopped by the sidecar's cohort rules (median and ASHA, REASON_COHORT) with their sentences, first with
one sidecar and the in-memory store, then spread over two sidecar processes sharing a real PostgreSQL, with the same
decisions.
"""

from __future__ import annotations

import logging
import time
import unittest

import numpy as np

import support

optuna = support.require("optuna", "optuna")
from ntk_sidecar import Decision, SidecarMonitor  # noqa: E402
from ntk_sidecar.lookup import DecisionLookup  # noqa: E402
from ntk_sidecar.optuna import NtkPruner, attach_trial, raise_if_stopped, run_id_for, trial_run_fields  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def decision(run_id: str, action: str = "STOP", reason: str = "BUDGET", enforced: bool = True, step: int = 40,
             detail: str = "Step budget spent.") -> Decision:
    return Decision(run_id=run_id, step=step, action=action, reason=reason, enforced=enforced, detail=detail,
                    decided_at_unix_ms=1)


class FakeLookup:
    """A DecisionLookup stand-in: run id -> Decision; records the run ids asked for."""

    def __init__(self, decisions: dict[str, Decision] | None = None) -> None:
        self.decisions = dict(decisions or {})
        self.asked: list[str] = []

    def decision(self, run_id: str) -> Decision | None:
        self.asked.append(run_id)
        return self.decisions.get(run_id)


def checking_objective(trial) -> float:
    """Reports a value and asks should_prune() a few times, as a training loop would."""
    for step in range(1, 6):
        trial.report(float(trial.number), step)
        if trial.should_prune():
            raise optuna.TrialPruned(trial.user_attrs.get("ntk_sidecar.message", "pruned"))
    return float(trial.number)


class PrunerWithoutSidecarTest(unittest.TestCase):
    def test_run_ids_cohort_and_labels(self) -> None:
        study = optuna.create_study(study_name="lr-sweep")
        trial = study.ask()
        self.assertEqual(run_id_for("lr-sweep", 3), "lr-sweep/3")
        self.assertEqual(trial_run_fields(trial), {"run_id": "lr-sweep/0", "cohort": "lr-sweep",
                                                   "labels": {"optuna_study": "lr-sweep", "optuna_trial": "0"}})

    def test_prunes_on_enforced_stop_only_and_records_the_reason(self) -> None:
        lookup = FakeLookup({
            "s/1": decision("s/1"),
            "s/2": decision("s/2", enforced=False, reason="KESS_REACHED", step=30),
            "s/3": decision("s/3", action="CONTINUE", reason="MARGINAL_GAIN"),
        })
        study = optuna.create_study(study_name="s", pruner=NtkPruner(lookup=lookup))
        study.optimize(checking_objective, n_trials=4)
        states = [t.state for t in study.trials]
        self.assertEqual(states, [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                                  optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.COMPLETE])
        self.assertEqual(lookup.asked[0], "s/0")
        pruned = study.trials[1].user_attrs
        self.assertEqual((pruned["ntk_sidecar.pruned_by"], pruned["ntk_sidecar.reason"], pruned["ntk_sidecar.step"],
                          pruned["ntk_sidecar.action"]), ("sidecar", "BUDGET", 40, "STOP"))
        self.assertIn("STOP at step 40, reason BUDGET: Step budget spent.", pruned["ntk_sidecar.message"])
        # Shadow mode: recorded as would-stop, not pruned.
        shadow = study.trials[2].user_attrs
        self.assertEqual((shadow["ntk_sidecar.would_stop_step"], shadow["ntk_sidecar.would_stop_reason"]),
                         (30, "KESS_REACHED"))
        self.assertNotIn("ntk_sidecar.pruned_by", shadow)
        self.assertEqual(study.trials[3].user_attrs, {})

    def test_wraps_another_pruner_any_or_all(self) -> None:
        # ThresholdPruner(upper=1.5) prunes trials 2 and 3 (their reported value is their number); the sidecar
        # says STOP for trials 1 and 3.
        def run(combine: str) -> list[str]:
            lookup = FakeLookup({"w/1": decision("w/1"), "w/3": decision("w/3")})
            pruner = NtkPruner(lookup=lookup, wrapped=optuna.pruners.ThresholdPruner(upper=1.5), combine=combine)
            study = optuna.create_study(study_name="w", pruner=pruner)
            study.optimize(checking_objective, n_trials=4)
            return [t.user_attrs.get("ntk_sidecar.pruned_by", t.state.name) for t in study.trials]

        self.assertEqual(run("any"), ["COMPLETE", "sidecar", "wrapped", "both"])
        self.assertEqual(run("all"), ["COMPLETE", "COMPLETE", "COMPLETE", "both"])
        with self.assertRaisesRegex(ValueError, "combine"):
            NtkPruner(lookup=FakeLookup(), combine="either")

    def test_fails_open_fast_against_a_dead_sidecar(self) -> None:
        lookup = DecisionLookup(f"127.0.0.1:{support.free_port()}", timeout_s=0.3, retry_after_s=60)
        study = optuna.create_study(study_name="dead", pruner=NtkPruner(lookup=lookup))
        with support.LogCapture() as logs:
            t0 = time.perf_counter()
            study.optimize(checking_objective, n_trials=4)  # 20 should_prune() calls
            elapsed = time.perf_counter() - t0
        self.assertTrue(all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials))
        # One RPC (at most one deadline), then quiet for retry_after_s: the other 19 answers cost nothing.
        self.assertEqual((lookup.calls, lookup.failures), (1, 1))
        self.assertLess(elapsed, 3.0)
        warnings = logs.messages(logging.WARNING)
        self.assertEqual(len([m for m in warnings if "no answer from the sidecar" in m]), 1, warnings)

    def test_raise_if_stopped_in_a_multi_objective_study(self) -> None:
        class FakeClient:
            def __init__(self, d: Decision | None) -> None:
                self.decision = d
                self.closed_with: str | None = None

            def submit(self, snapshot) -> None:
                pass

            def send_scalars(self, *args, **kwargs) -> None:
                pass

            def close(self, status="completed", timeout=10.0) -> None:
                self.closed_with = status

        clients: list[FakeClient] = []

        def objective(trial):
            d = decision(f"mo/{trial.number}", step=25) if trial.number == 1 else None
            client = FakeClient(d)
            clients.append(client)
            monitor = SidecarMonitor(client)
            with self.assertRaises(NotImplementedError):  # why the helper exists
                trial.should_prune()
            for step in range(1, 30):
                monitor.on_step(step, 1.0 / step)
                raise_if_stopped(trial, monitor)
            monitor.close()
            return 1.0, 2.0

        study = optuna.create_study(study_name="mo", directions=["minimize", "minimize"])
        study.optimize(objective, n_trials=2)
        self.assertEqual([t.state for t in study.trials],
                         [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED])
        attrs = study.trials[1].user_attrs
        self.assertEqual((attrs["ntk_sidecar.reason"], attrs["ntk_sidecar.step"]), ("BUDGET", 25))
        self.assertEqual([c.closed_with for c in clients], ["completed", "stopped"])
        # A shadow-mode monitor never raises.
        shadow = SidecarMonitor(FakeClient(decision("x")), shadow=True)
        raise_if_stopped(study.ask(), shadow)


# ---------------------------------------------------------------------------------------------------------------
# Real studies against a real sidecar.

STEPS = 600
BUDGET = 150          # steps the sweep's losers get (their warm-up too: only the budget can STOP them)
CHECK_EVERY = 10
# A tiny MLP step takes ~1 ms here, far less than a real training step; on a loaded 2-core machine the sidecar can
# take a second or more to answer (it handles a stream's messages in order, a snapshot's analysis first). Each
# step is paced to at least STEP_S (sleeping, no CPU), so a STOP decided at step BUDGET has ~2 s to arrive.
STEP_S = 0.005
LEARNING_RATES = [0.3, 0.1, 0.03, 0.003, 0.001, 0.0003]  # the last three are the losers at 600 steps


def digits():
    sklearn = support.require("sklearn.datasets", "examples")
    torch = support.require("torch", "torch")
    x, y = sklearn.load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    return torch, x[:1200], y[:1200], x[1200:], y[1200:]


def train_trial(trial, data, target: str, lr: float, prune_with: str, **run_fields) -> float:
    """One real training of a 64-32-10 MLP (SGD, batch 64), attached to the sidecar as run "{study}/{number}"."""
    from ntk_sidecar.torch_adapter import TorchNtk
    torch, xtr, ytr, xte, yte = data
    torch.manual_seed(trial.number)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ntk = TorchNtk(model, xtr[:16], probe_targets=ytr[:16], mode="gram", loss="cross_entropy")
    gen = torch.Generator().manual_seed(100 + trial.number)
    with attach_trial(trial, ntk, target=target, learning_rate=lr, optimizer="sgd", snapshot_every=200,
                      scalars_every=CHECK_EVERY, scalars_interval_s=0.0, train_set_size=len(xtr),
                      **run_fields) as monitor:
        next_step_at = time.monotonic()
        for step in range(1, STEPS + 1):
            next_step_at += STEP_S
            idx = torch.randint(0, len(xtr), (64,), generator=gen)
            loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.on_step(step, loss.item(), learning_rate=lr)
            time.sleep(max(0.0, next_step_at - time.monotonic()))
            if step % CHECK_EVERY == 0:
                trial.report(loss.item(), step)
                if prune_with == "should_prune" and trial.should_prune():
                    trial.set_user_attr("pruned_at_step", step)
                    raise optuna.TrialPruned(trial.user_attrs.get("ntk_sidecar.message", "pruned"))
                if prune_with == "helper":
                    trial.set_user_attr("checked_at_step", step)
                    raise_if_stopped(trial, monitor)
    with torch.no_grad():
        return float((model(xte).argmax(1) == yte).float().mean())


class RealStudyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.data = digits()
        cls.target = support.sidecar_target()

    def sweep(self, study_name: str, prune_with: str) -> "optuna.study.Study":
        pruner = NtkPruner(self.target, timeout_s=2.0)

        def objective(trial):
            lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
            loser = lr < 0.01
            fields = dict(max_steps=BUDGET, warmup_steps=BUDGET) if loser else dict(warmup_steps=10 ** 9)
            return train_trial(trial, self.data, self.target, lr, prune_with, **fields)

        study = optuna.create_study(study_name=study_name, direction="maximize", pruner=pruner)
        for lr in LEARNING_RATES:
            study.enqueue_trial({"lr": lr})
        study.optimize(objective, n_trials=len(LEARNING_RATES))
        return study

    def assert_losers_pruned_by_budget(self, study, step_attr: str) -> None:
        print(f"\n{study.study_name}:", flush=True)
        for t in study.trials:
            print(f"  trial {t.number} lr {t.params['lr']:g}: {t.state.name} value {t.value} "
                  f"{t.user_attrs.get('ntk_sidecar.message', '')}", flush=True)
        for t in study.trials:
            loser = t.params["lr"] < 0.01
            if not loser:
                self.assertEqual(t.state, optuna.trial.TrialState.COMPLETE, t)
                self.assertGreater(t.value, 0.8)
                self.assertNotIn("ntk_sidecar.pruned_by", t.user_attrs)
                continue
            self.assertEqual(t.state, optuna.trial.TrialState.PRUNED, t)
            a = t.user_attrs
            self.assertEqual((a["ntk_sidecar.pruned_by"], a["ntk_sidecar.reason"], a["ntk_sidecar.action"]),
                             ("sidecar", "BUDGET", "STOP"))
            self.assertIn(f"max_steps {BUDGET}", a["ntk_sidecar.detail"])
            self.assertGreaterEqual(a["ntk_sidecar.step"], BUDGET)
            self.assertLess(a[step_attr], STEPS)  # stopped early, not at the end
        # The sidecar saw every trial as run "{study}/{number}" in cohort = the study name.
        from ntk_sidecar._proto import NtkSidecarStub, pb
        import grpc
        with grpc.insecure_channel(self.target) as channel:
            stub = NtkSidecarStub(channel)
            runs = stub.ListRuns(pb.ListRunsRequest(cohort=study.study_name), timeout=10).runs
            self.assertEqual(sorted(r.run_id for r in runs),
                             sorted(f"{study.study_name}/{i}" for i in range(len(LEARNING_RATES))))
            # A pruned trial's run ended STOPPED (TrialPruned leaving attach_trial's block), the others COMPLETED.
            for t in study.trials:
                report = stub.GetRun(pb.GetRunRequest(run_id=run_id_for(study.study_name, t.number)), timeout=10)
                want = pb.RUN_STATUS_STOPPED if t.state == optuna.trial.TrialState.PRUNED else pb.RUN_STATUS_COMPLETED
                self.assertEqual((report.cohort, report.state, report.status), (study.study_name, "ended", want))

    def test_losers_pruned_through_should_prune(self) -> None:
        study = self.sweep(f"py-optuna-{time.monotonic_ns()}", "should_prune")
        self.assert_losers_pruned_by_budget(study, "pruned_at_step")

    def test_losers_pruned_through_raise_if_stopped(self) -> None:
        study = self.sweep(f"py-optuna-helper-{time.monotonic_ns()}", "helper")
        self.assert_losers_pruned_by_budget(study, "checked_at_step")


class ExampleTest(unittest.TestCase):
    def test_optuna_sweep_example_prints_each_trial_and_the_reason(self) -> None:
        import os
        import subprocess
        import sys
        support.require("sklearn.datasets", "examples")
        env = {**os.environ, "NTK_SIDECAR_TARGET": support.sidecar_target()}
        cmd = [sys.executable, str(support.CLIENT_ROOT / "examples" / "optuna_sweep.py"), "--trials", "2", "--steps",
               "2000", "--snapshot-every", "50", "--probe", "16", "--max-steps", "100", "--study", "py-example"]
        # 2000 steps: room for a loaded sidecar to answer; a pruned trial stops soon after step 100.
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("trial ")]
        self.assertEqual(len(lines), 2, done.stdout)
        for i, line in enumerate(lines):
            self.assertRegex(line, rf"^trial  {i}  lr \d\.\d+  PRUNED    pruned by sidecar: ntk-sidecar: STOP at step "
                                   r"\d+, reason BUDGET: Step budget spent")
        self.assertIn("2 trials in", done.stdout)


# ---------------------------------------------------------------------------------------------------------------
# Cohort rules (issue 13's Done-when): a sweep of 8 real trainings, one Optuna study, stopped by the sidecar's median
# and ASHA rules; then the same sweep spread over two sidecar processes sharing a real PostgreSQL.

COHORT_STEPS = 400
COHORT_RUNG = 40
# Trial order (= trial number) and learning rate; the seed of a training is fixed by its learning rate, so a trial is
# the same training in every study. Winners (lr >= 0.05) arrive in increasing quality, so each is the best so far
# at ASHA's rungs; the losers (lr <= 0.002, and 0.02 which learns too slowly to pass the median at step 40) arrive
# among them. Full-training-set losses at step 40 (measured here, float32 on CPU; the margins between a loser and
# its threshold are >= 0.12):
#   lr      0.05    0.1     0.0005  0.2     0.5     0.001   0.002   0.02
#   loss    2.141   1.904   2.346   1.423   0.535   2.303   2.347   2.269
# Expected decisions at rung 40: 0.0005 -> ASHA (2 peers: too few for the median, and not the best of 3); 0.001,
# 0.002, 0.02 -> median (above the median of >= 5 peers); the winners continue at every rung (40, 80, 160, 320).
COHORT_LRS = [0.05, 0.1, 0.0005, 0.2, 0.5, 0.001, 0.002, 0.02]
COHORT_SEEDS = {0.05: 0, 0.1: 1, 0.2: 2, 0.5: 3, 0.0005: 4, 0.001: 5, 0.002: 6, 0.02: 7}
COHORT_WINNERS = {0.05, 0.1, 0.2, 0.5}
COHORT_POLICY = {"cohort": {"order": "run-first", "objective": "train_loss", "resource": "steps", "rules": [
    {"rule": "median", "rungs": [COHORT_RUNG], "minPeers": 3},
    {"rule": "asha", "minResource": COHORT_RUNG, "reductionFactor": 2, "bracket": 0, "maxResource": 320},
]}}
# What each trial's training loss at the rung must lead to, with the sentence a person reads (values from the table).
EXPECTED_RULE = {0.0005: "ASHA", 0.001: "median", 0.002: "median", 0.02: "median"}


def run_cohort_sweep(data, study_name: str, targets: list[str]) -> "optuna.study.Study":
    """The sweep, trial n attached to (and its pruner asking) targets[n % len(targets)]."""
    from ntk_sidecar.torch_adapter import TorchNtk
    torch, xtr, ytr, xte, yte = data
    lookups = [DecisionLookup(t, timeout_s=2.0) for t in targets]

    class ByTrial:
        """Asks the sidecar the trial's run is attached to (run id "{study}/{number}")."""

        def decision(self, run_id: str):
            return lookups[int(run_id.rsplit("/", 1)[1]) % len(lookups)].decision(run_id)

    def objective(trial):
        lr = trial.suggest_categorical("lr", COHORT_LRS)
        target = targets[trial.number % len(targets)]
        seed = COHORT_SEEDS[lr]
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        ntk = TorchNtk(model, xtr[:16], probe_targets=ytr[:16], mode="gram", loss="cross_entropy")
        gen = torch.Generator().manual_seed(100 + seed)
        with attach_trial(trial, ntk, target=target, learning_rate=lr, optimizer="sgd", snapshot_every=200,
                          scalars_every=CHECK_EVERY, scalars_interval_s=0.0, train_set_size=len(xtr),
                          warmup_steps=10 ** 9) as monitor:
            next_step_at = time.monotonic()
            for step in range(1, COHORT_STEPS + 1):
                next_step_at += STEP_S
                idx = torch.randint(0, len(xtr), (64,), generator=gen)
                loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                reported = loss.item()
                if step % CHECK_EVERY == 0:
                    with torch.no_grad():
                        reported = float(torch.nn.functional.cross_entropy(model(xtr), ytr))
                monitor.on_step(step, reported, learning_rate=lr)
                time.sleep(max(0.0, next_step_at - time.monotonic()))
                if step % CHECK_EVERY == 0:
                    trial.report(reported, step)
                    if trial.should_prune():
                        trial.set_user_attr("pruned_at_step", step)
                        raise optuna.TrialPruned(trial.user_attrs.get("ntk_sidecar.message", "pruned"))
        with torch.no_grad():
            return float((model(xte).argmax(1) == yte).float().mean())

    study = optuna.create_study(study_name=study_name, direction="maximize", pruner=NtkPruner(lookup=ByTrial()))
    for lr in COHORT_LRS:
        study.enqueue_trial({"lr": lr})
    study.optimize(objective, n_trials=len(COHORT_LRS))
    for lookup in lookups:
        lookup.close()
    return study


def sidecar_decisions(study, targets: list[str]) -> dict[str, tuple]:
    """Each trial's final decision as its sidecar reports it (GetRun): a STOP's reason, step and sentence, or
    "continue". The Optuna step at which a trial noticed the STOP depends on timing; the decision does not."""
    import grpc
    from ntk_sidecar._proto import NtkSidecarStub, pb
    out: dict[str, tuple] = {}
    for t in study.trials:
        run_id = run_id_for(study.study_name, t.number)
        with grpc.insecure_channel(targets[t.number % len(targets)]) as channel:
            d = NtkSidecarStub(channel).GetRun(pb.GetRunRequest(run_id=run_id), timeout=10).decision
        stop = d.action == pb.ACTION_STOP
        out[run_id] = (pb.Reason.Name(d.reason), int(d.step), d.detail) if stop else ("continue",)
    return out


def print_study(label: str, study) -> None:
    print(f"\n{label} ({study.study_name}):", flush=True)
    for t in study.trials:
        print(f"  trial {t.number} lr {t.params['lr']:g}: {t.state.name} "
              f"{t.user_attrs.get('ntk_sidecar.message', '')}", flush=True)


def start_all(procs: list[support.SidecarProcess]) -> None:
    """Starts the sidecar processes together (each start is seconds of node + tsx on a loaded machine)."""
    for p in procs:
        p.start(wait=False)
    for p in procs:
        p.wait_ready(120)


PG_URL_ENV = "NTK_SIDECAR_TEST_PG_URL"


class CohortStudyTest(unittest.TestCase):
    """The Done-when sweep, with real Optuna studies and real trainings (not recorded loss sequences): 8 trials
    against one sidecar process with the in-memory cohort store, then the same 8 trainings (seeded, deterministic)
    in a second study spread over two sidecar processes (`serve --cohort-store postgres://…`) sharing a real
    PostgreSQL ($NTK_SIDECAR_TEST_PG_URL, started by test/python-client/optunaCohort.test.ts), even trials on one,
    odd on the other. Trials run one after another, as Optuna's default optimize() does, so the cohort state each
    trial meets is the same in both studies."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.data = digits()

    def assert_losers_stopped_by_median_and_asha(self, study, decisions: dict[str, tuple]) -> None:
        for t in study.trials:
            lr = t.params["lr"]
            d = decisions[run_id_for(study.study_name, t.number)]
            if lr in COHORT_WINNERS:
                self.assertEqual(t.state, optuna.trial.TrialState.COMPLETE, (t.number, lr, t.user_attrs))
                self.assertEqual(d, ("continue",), (t.number, lr))
                self.assertGreater(t.value, 0.7)
                continue
            # A loser: stopped by the sidecar's cohort rule at rung 40, pruned through should_prune() with the reason.
            self.assertEqual(t.state, optuna.trial.TrialState.PRUNED, (t.number, lr, t.user_attrs))
            a = t.user_attrs
            self.assertEqual((a["ntk_sidecar.pruned_by"], a["ntk_sidecar.reason"], a["ntk_sidecar.action"]),
                             ("sidecar", "COHORT", "STOP"))
            self.assertLess(a["pruned_at_step"], COHORT_STEPS)
            reason, step, detail = d
            self.assertEqual((reason, step), ("REASON_COHORT", COHORT_RUNG))
            self.assertEqual(a["ntk_sidecar.detail"], detail)
            if EXPECTED_RULE[lr] == "median":
                self.assertRegex(detail, r"^Cohort median rule: training loss \d\.\d+ at step 40 is above the median "
                                         rf"\d\.\d+ of [5-7] peers in cohort \"{study.study_name}\"\.$")
            else:
                self.assertRegex(detail, r"^ASHA \(η = 2\): training loss \d\.\d+ at step 40 is not in the top 1/2 "
                                         r"of the 3 runs that reached this rung \(the 1st best is \d\.\d+\)\.$")

    def test_memory_store_then_two_sidecars_on_postgres_decide_alike(self) -> None:
        import os
        pg_url = os.environ.get(PG_URL_ENV)
        memory = support.SidecarProcess(policy=COHORT_POLICY)
        shared = [support.SidecarProcess(policy=COHORT_POLICY, extra_args=["--cohort-store", pg_url])
                  for _ in range(2)] if pg_url else []
        study_name = f"py-cohort-{time.monotonic_ns()}"  # the same in both studies: the sentences name the cohort
        try:
            start_all([memory, *shared])
            one = run_cohort_sweep(self.data, study_name, [memory.target])
            print_study("cohort sweep, one sidecar, memory store", one)
            by_memory = sidecar_decisions(one, [memory.target])
            self.assert_losers_stopped_by_median_and_asha(one, by_memory)
            if not pg_url:
                reason = (f"PostgreSQL is not available (${PG_URL_ENV} unset: test/python-client/optunaCohort.test.ts "
                          "starts one when /usr/lib/postgresql/15/bin exists); the two-sidecar half did not run")
                print(f"\n*** SKIPPED (PostgreSQL missing): {reason}", flush=True)
                self.skipTest(reason)
            targets = [p.target for p in shared]
            two = run_cohort_sweep(self.data, study_name, targets)
            print_study("the same sweep over two sidecars sharing PostgreSQL", two)
            by_postgres = sidecar_decisions(two, targets)
            self.assertEqual(by_postgres, by_memory)
            self.assertEqual([t.state for t in two.trials], [t.state for t in one.trials])
            self.assert_losers_stopped_by_median_and_asha(two, by_postgres)
        finally:
            for p in (memory, *shared):
                p.stop()


if __name__ == "__main__":
    unittest.main()
