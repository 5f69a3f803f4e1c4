"""ntk_sidecar.ray.NtkStopper: the framework-free part (decision lookup, fail-open, trial id -> run id mapping)
with fake Tune result dicts, then against a real sidecar (a run whose budget is spent is stopped). Ray does not
install on this machine: the test that checks it is a ray.tune.Stopper composing with CombinedStopper skips loudly.
"""

from __future__ import annotations

import logging
import time
import unittest

import support

from ntk_sidecar import Decision, RunSpec, SidecarClient  # noqa: E402
from ntk_sidecar.lookup import DecisionLookup  # noqa: E402
from ntk_sidecar.ray import HAS_RAY, NtkStopper, run_id_for  # noqa: E402


def decision(run_id: str, action: str = "STOP", enforced: bool = True, reason: str = "COHORT") -> Decision:
    return Decision(run_id=run_id, step=300, action=action, reason=reason, enforced=enforced,
                    detail="median rule at rung 300", decided_at_unix_ms=1)


class FakeLookup:
    def __init__(self, decisions: dict[str, Decision]) -> None:
        self.decisions = decisions
        self.asked: list[str] = []

    def decision(self, run_id: str) -> Decision | None:
        self.asked.append(run_id)
        return self.decisions.get(run_id)


def result(trial_id: str, iteration: int = 1, **extra) -> dict:
    """The keys Tune puts in every result dict (those the stopper could read), plus the trainable's own."""
    return {"trial_id": trial_id, "training_iteration": iteration, "experiment_tag": f"0_lr={iteration}",
            "config": {"lr": 0.1}, "done": False, **extra}


class StopperWithoutRayTest(unittest.TestCase):
    def test_run_id_mapping(self) -> None:
        s = NtkStopper(lookup=FakeLookup({}), experiment="sweep")
        self.assertEqual(s.run_id("a1_00001", result("a1_00001")), "sweep/a1_00001")
        self.assertEqual(run_id_for("sweep", "a1_00001"), "sweep/a1_00001")
        # The trainable's reported run id wins; then a mapping function; then the bare trial id.
        self.assertEqual(s.run_id("a1_00001", result("a1_00001", ntk_run_id="mine/7")), "mine/7")
        fn = NtkStopper(lookup=FakeLookup({}), run_id=lambda tid, r: f"{r['config']['lr']}/{tid}")
        self.assertEqual(fn.run_id("t", result("t")), "0.1/t")
        self.assertEqual(NtkStopper(lookup=FakeLookup({})).run_id("t", result("t")), "t")

    def test_stops_on_enforced_stop_only(self) -> None:
        lookup = FakeLookup({"sweep/t1": decision("sweep/t1"), "sweep/t2": decision("sweep/t2", enforced=False),
                             "sweep/t3": decision("sweep/t3", action="CONTINUE", reason="MARGINAL_GAIN")})
        s = NtkStopper(lookup=lookup, experiment="sweep")
        with support.LogCapture() as logs:
            got = {tid: s(tid, result(tid)) for tid in ("t0", "t1", "t2", "t3")}
            self.assertTrue(s("t1", result("t1", 2)))  # latched: no further lookup
        self.assertEqual(got, {"t0": False, "t1": True, "t2": False, "t3": False})
        self.assertEqual(lookup.asked, ["sweep/t0", "sweep/t1", "sweep/t2", "sweep/t3"])
        self.assertEqual((s.stopped["t1"].reason, list(s.would_stop)), ("COHORT", ["t2"]))
        self.assertFalse(s.stop_all())
        warnings = logs.messages(logging.WARNING)
        self.assertTrue(any("stopping Tune trial t1: STOP at step 300, reason COHORT" in m for m in warnings), warnings)
        self.assertTrue(any("shadow mode, would stop Tune trial t2" in m for m in warnings), warnings)

    def test_fails_open_against_a_dead_sidecar(self) -> None:
        lookup = DecisionLookup(f"127.0.0.1:{support.free_port()}", timeout_s=0.3, retry_after_s=60)
        s = NtkStopper(lookup=lookup, experiment="dead")
        t0 = time.perf_counter()
        answers = [s(f"t{i % 4}", result(f"t{i % 4}", i)) for i in range(200)]
        self.assertLess(time.perf_counter() - t0, 3.0)
        self.assertEqual(answers, [False] * 200)
        self.assertEqual((lookup.calls, lookup.failures), (1, 1))  # then quiet for retry_after_s

    def test_picklable(self) -> None:
        import pickle
        s = NtkStopper("127.0.0.1:1", experiment="p", timeout_s=0.2)
        s.lookup.decision("p/x")  # opens the channel
        clone = pickle.loads(pickle.dumps(s))
        self.assertEqual((clone.experiment, clone.lookup.target, clone.lookup.timeout_s), ("p", "127.0.0.1:1", 0.2))


class StopperAgainstSidecarTest(unittest.TestCase):
    def test_a_spent_budget_stops_the_trial(self) -> None:
        target = support.sidecar_target()
        experiment = f"py-ray-{time.monotonic_ns()}"
        spec = RunSpec(run_id=run_id_for(experiment, "trainable_00001"), num_samples=4, cohort=experiment,
                       max_steps=20, warmup_steps=20, learning_rate=0.1)
        stopper = NtkStopper(target, experiment=experiment, timeout_s=5.0)
        self.assertFalse(stopper("trainable_00000", result("trainable_00000")))  # unknown run: fail open
        with SidecarClient(target, spec) as client:
            client.send_scalars(10, 1.0)
            self.assertTrue(client.flush(30))
            self.assertFalse(stopper("trainable_00001", result("trainable_00001", 1)))  # warming up
            client.send_scalars(20, 0.5)
            self.assertTrue(client.wait_for(lambda c: c.decision is not None and c.decision.stop, 30))
            self.assertTrue(stopper("trainable_00001", result("trainable_00001", 2)))
        self.assertEqual(stopper.stopped["trainable_00001"].reason, "BUDGET")


class TuneExperimentTest(unittest.TestCase):
    def test_is_a_tune_stopper_and_composes_with_combined_stopper(self) -> None:
        tune = support.require("ray.tune", "ray")
        from ray.tune.stopper import CombinedStopper, MaximumIterationStopper
        self.assertTrue(HAS_RAY)
        s = NtkStopper(lookup=FakeLookup({"exp/t1": decision("exp/t1")}), experiment="exp")
        self.assertIsInstance(s, tune.Stopper)
        combined = CombinedStopper(s, MaximumIterationStopper(max_iter=5))
        self.assertTrue(combined("t1", result("t1")))
        self.assertFalse(combined("t0", result("t0", 1)))
        self.assertTrue(combined("t0", result("t0", 5)))
        self.assertFalse(combined.stop_all())


if __name__ == "__main__":
    unittest.main()
