#!/usr/bin/env python3
"""A real Optuna study whose trials the sidecar prunes: a learning-rate sweep of a digits MLP (scikit-learn's
bundled digits, CPU), each trial attached to the sidecar at $NTK_SIDECAR_TARGET (default 127.0.0.1:50051) as run
"{study}/{trial.number}" in cohort = the study name, pruned by ntk_sidecar.optuna.NtkPruner when the sidecar says
STOP for it (its per-run policy, a budget, or the cohort rules of its policy file).

    npm start -- --grpc-addr 127.0.0.1:50051 &
    NTK_SIDECAR_TARGET=127.0.0.1:50051 python3 clients/python/examples/optuna_sweep.py [--trials 8] [--steps 600]

Prints one line per trial: number, learning rate, state, test accuracy or last loss, and, when pruned, who
pruned it and the sidecar's reason. `--max-steps N` gives every trial a step budget (the simplest STOP to see);
`--median` wraps Optuna's MedianPruner (pruned if either says so); `--multi-objective` runs a two-objective
study (accuracy, steps) and prunes with raise_if_stopped, since Trial.should_prune() does not exist there;
`--eval-probe N` sends logits on N further training samples with every snapshot (docs/generalization.md G4).
The sidecar being down changes nothing but the pruning: every trial then completes (fail open).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from ntk_sidecar.optuna import NtkPruner, attach_trial, raise_if_stopped  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402


def data():
    x, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(0).permutation(len(x))
    x = torch.tensor(x[perm] / 16.0, dtype=torch.float32)
    y = torch.tensor(y[perm], dtype=torch.long)
    return x[:1437], y[:1437], x[1437:], y[1437:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", default=f"digits-lr-{int(time.time())}", help="study name = the sidecar cohort")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--steps", type=int, default=600, help="training steps per trial (batch 64)")
    p.add_argument("--snapshot-every", type=int, default=100)
    p.add_argument("--check-every", type=int, default=10, help="ask the pruner every this many steps")
    p.add_argument("--probe", type=int, default=128, help="kernel probe samples n (client default 128)")
    p.add_argument("--eval-probe", type=int, default=0, help="evaluation-probe samples (0 = off; e.g. 512)")
    p.add_argument("--max-steps", type=int, default=0, help="a step budget for every trial (0 = none)")
    p.add_argument("--median", action="store_true", help="wrap Optuna's MedianPruner (prune if either says so)")
    p.add_argument("--multi-objective", action="store_true", help="maximise accuracy, minimise steps")
    p.add_argument("--policy", default="", help="sidecar policy name for every trial (default: the sidecar's)")
    args = p.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    target = os.environ.get("NTK_SIDECAR_TARGET", "127.0.0.1:50051")
    xtr, ytr, xte, yte = data()
    torch.set_num_threads(1)

    def train(trial) -> tuple[float, int]:
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        torch.manual_seed(trial.number)
        model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        ntk = TorchNtk.from_training_set(model, xtr, ytr, n=args.probe, eval_samples=args.eval_probe,
                                         mode="gram", reduction="trace", loss="cross_entropy")
        fields = dict(learning_rate=lr, optimizer="sgd", policy=args.policy, max_steps=args.max_steps)
        gen = torch.Generator().manual_seed(trial.number)
        step = 0
        with attach_trial(trial, ntk, target=target, snapshot_every=args.snapshot_every, **fields) as monitor:
            for step in range(1, args.steps + 1):
                idx = torch.randint(0, len(xtr), (64,), generator=gen)
                loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.on_step(step, loss.item(), learning_rate=lr)
                if step % args.check_every:
                    continue
                if args.multi_objective:
                    raise_if_stopped(trial, monitor)
                else:
                    trial.report(loss.item(), step)
                    if trial.should_prune():
                        raise optuna.TrialPruned(trial.user_attrs.get("ntk_sidecar.message", "pruned"))
        with torch.no_grad():
            return float((model(xte).argmax(1) == yte).float().mean()), step

    if args.multi_objective:
        study = optuna.create_study(study_name=args.study, directions=["maximize", "minimize"])
        objective = train
    else:
        wrapped = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=100) if args.median else None
        study = optuna.create_study(study_name=args.study, direction="maximize",
                                    pruner=NtkPruner(target, wrapped=wrapped))

        def objective(trial):
            return train(trial)[0]

    for lr in np.geomspace(0.5, 3e-4, args.trials):  # a deterministic sweep: the same trials every time
        study.enqueue_trial({"lr": float(lr)})
    print(f"study {args.study}: {args.trials} trials against the sidecar at {target}", flush=True)
    started = time.monotonic()

    def report(study, trial) -> None:
        a = trial.user_attrs
        if trial.state == optuna.trial.TrialState.PRUNED:
            who = a.get("ntk_sidecar.pruned_by", "?")
            why = f"pruned by {who}: {a.get('ntk_sidecar.message', '(no reason recorded)')}"
        else:
            why = f"test accuracy {trial.values[0]:.4f}" if trial.values else ""
            if "ntk_sidecar.would_stop_step" in a:
                why += (f" (shadow mode: would have stopped at step {a['ntk_sidecar.would_stop_step']}, reason "
                        f"{a['ntk_sidecar.would_stop_reason']})")
        print(f"trial {trial.number:2d}  lr {trial.params['lr']:.5f}  {trial.state.name:8s}  {why}", flush=True)

    study.optimize(objective, n_trials=args.trials, callbacks=[report])
    states = [t.state for t in study.trials]
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    print(f"{len(states)} trials in {time.monotonic() - started:.1f} s: {pruned} pruned, "
          f"{states.count(optuna.trial.TrialState.COMPLETE)} complete", flush=True)
    if not args.multi_objective and optuna.trial.TrialState.COMPLETE in states:
        best = study.best_trial
        print(f"best: trial {best.number}, lr {best.params['lr']:.5f}, test accuracy {best.value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
