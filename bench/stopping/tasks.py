"""The task matrix of issue 7, trimmed to run on a 2-core CPU in about half an hour (see REPORT.md, "What was run").

Every digits task trains a one-hidden-layer ReLU MLP 64 → width → 10 with plain SGD at a learning rate set from
the sharpness λ₀ the sidecar measures at initialisation: η = lr_factor · 2/λ₀ (lr_factor 0.5 is below the catapult
window 2/λ₀ < η < 4/λ₀, 1.5 is inside it). The γ tasks centre the output, f = (h(θ) − h(θ₀))/γ, and use the
γ-adjusted rate of Atanasov et al. (docs/sources.md 3): η(γ) = η(1)·γ² for γ ≤ 1, η(1)·γ^{2/L} for γ > 1 (L = 2 layers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Task:
    name: str
    group: str                 # "width", "gamma", "lr-batch", "teacher-student"
    data: str                  # "digits" | "teacher"
    loss: str                  # "mse" | "cross_entropy"
    width: int
    steps: int                 # the budget: every run trains to the end
    batch: int = 64            # 0 = full batch (gradient descent)
    lr_factor: float = 0.5     # η = lr_factor · 2/λ₀ (for γ tasks: of the γ = 1 network, then γ-adjusted)
    gamma: float = 1.0
    centered: bool = False     # f = (h(θ) − h(θ₀))/γ
    probe: int = 32            # probe samples n (kernel N = n·C)
    snapshots: int = 24        # kernel snapshots after the one at step 0
    seed: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# MSE on one-hot targets at η = 1/λ₀ learns the digits more slowly than cross-entropy (λ₀ is set by the top mode):
# its budget is longer, so that every full run ends with its test accuracy flat (the situation stopping is for).
MSE_STEPS = 3000


def matrix() -> list[Task]:
    tasks: list[Task] = []
    # Width × loss, below the catapult window, batch 64.
    for loss, tag in (("mse", "mse"), ("cross_entropy", "ce")):
        for width in (64, 512, 4096):
            tasks.append(Task(f"digits-w{width}-{tag}", "width", "digits", loss, width, steps=MSE_STEPS if loss == "mse" else 1200,
                              probe=16 if width == 4096 else 32))
    # Output scale γ (lazy → rich) at the γ-adjusted learning rate, width 512, MSE, centred output.
    for gamma in (0.1, 1.0, 10.0):
        tasks.append(Task(f"digits-gamma{gamma:g}-mse", "gamma", "digits", "mse", 512, steps=MSE_STEPS, gamma=gamma,
                          centered=True))
    # Learning rate below / inside the catapult window × two SGD batch sizes, width 512, MSE.
    for batch in (16, 256):
        for factor, tag in ((0.5, "below"), (1.5, "catapult")):
            tasks.append(Task(f"digits-b{batch}-{tag}-mse", "lr-batch", "digits", "mse", 512, steps=MSE_STEPS,
                              batch=batch, lr_factor=factor))
    # Teacher–student regression in the kernel regime (closed-form KESS), full-batch GD. η = 0.8/λ₀, not 1/λ₀:
    # there the top mode's factor 1 − ηλ₀ is exactly 0, the discrete curve drops at s = 0⁺ and K2 degenerates to 0.
    for width in (1024, 4096):
        tasks.append(Task(f"teacher-w{width}", "teacher-student", "teacher", "mse", width, steps=1500, batch=0,
                          lr_factor=0.4, centered=True, probe=256))
    return tasks


def by_name(names: list[str]) -> list[Task]:
    tasks = {t.name: t for t in matrix()}
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; known: {sorted(tasks)}")
    return [tasks[n] for n in names]
