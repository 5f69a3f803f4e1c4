from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ACTION_CONTINUE: Action
ACTION_STOP: Action
ACTION_UNSPECIFIED: Action
DESCRIPTOR: _descriptor.FileDescriptor
DTYPE_BF16: DType
DTYPE_F16: DType
DTYPE_F32: DType
DTYPE_F64: DType
DTYPE_UNSPECIFIED: DType
KERNEL_REDUCTION_FULL: KernelReduction
KERNEL_REDUCTION_TRACE: KernelReduction
KERNEL_REDUCTION_UNSPECIFIED: KernelReduction
LOSS_KIND_CROSS_ENTROPY: LossKind
LOSS_KIND_MSE: LossKind
LOSS_KIND_UNSPECIFIED: LossKind
OPTIMIZER_KIND_ADAM: OptimizerKind
OPTIMIZER_KIND_MOMENTUM: OptimizerKind
OPTIMIZER_KIND_SGD: OptimizerKind
OPTIMIZER_KIND_UNSPECIFIED: OptimizerKind
REASON_BEFORE_KESS: Reason
REASON_BUDGET: Reason
REASON_CATAPULT: Reason
REASON_COHORT: Reason
REASON_COLLECTING: Reason
REASON_DIVERGED: Reason
REASON_FEATURE_LEARNING: Reason
REASON_GENERALIZATION_GAIN: Reason
REASON_GENERALIZATION_SATURATED: Reason
REASON_KESS_REACHED: Reason
REASON_LARGE_PREDICTED_GAIN: Reason
REASON_LOADED_PLATEAU: Reason
REASON_MANUAL: Reason
REASON_NO_DATA: Reason
REASON_STOP_PENDING: Reason
REASON_UNSPECIFIED: Reason
REASON_UNSTABLE: Reason
REASON_WARMUP: Reason
RUN_STATUS_CANCELLED: RunStatus
RUN_STATUS_COMPLETED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_STOPPED: RunStatus
RUN_STATUS_UNSPECIFIED: RunStatus
SKETCH_KIND_GAUSSIAN: SketchKind
SKETCH_KIND_RADEMACHER: SketchKind
SKETCH_KIND_UNSPECIFIED: SketchKind
TENSOR_KIND_EVAL_LOGITS: TensorKind
TENSOR_KIND_GRAM: TensorKind
TENSOR_KIND_JACOBIAN: TensorKind
TENSOR_KIND_LOGITS: TensorKind
TENSOR_KIND_SKETCH: TensorKind
TENSOR_KIND_UNSPECIFIED: TensorKind

class AlignmentReport(_message.Message):
    __slots__ = ["centered", "curve", "uncentered"]
    CENTERED_FIELD_NUMBER: _ClassVar[int]
    CURVE_FIELD_NUMBER: _ClassVar[int]
    UNCENTERED_FIELD_NUMBER: _ClassVar[int]
    centered: float
    curve: _containers.RepeatedCompositeFieldContainer[CurvePoint]
    uncentered: float
    def __init__(self, uncentered: _Optional[float] = ..., centered: _Optional[float] = ..., curve: _Optional[_Iterable[_Union[CurvePoint, _Mapping]]] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ["max_compute", "max_steps"]
    MAX_COMPUTE_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    max_compute: float
    max_steps: int
    def __init__(self, max_steps: _Optional[int] = ..., max_compute: _Optional[float] = ...) -> None: ...

class CheckStopRequest(_message.Message):
    __slots__ = ["job_id", "run_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    run_id: str
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class CurvePoint(_message.Message):
    __slots__ = ["k", "value"]
    K_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    k: int
    value: float
    def __init__(self, k: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ["action", "decided_at_unix_ms", "detail", "enforced", "evidence", "job_id", "kess_step", "policy", "predicted_loss_at_kess", "reason", "run_id", "snapshot_id", "step"]
    class EvidenceEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ENFORCED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KESS_STEP_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_LOSS_AT_KESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    action: Action
    decided_at_unix_ms: int
    detail: str
    enforced: bool
    evidence: _containers.ScalarMap[str, float]
    job_id: str
    kess_step: float
    policy: str
    predicted_loss_at_kess: float
    reason: Reason
    run_id: str
    snapshot_id: int
    step: int
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ..., snapshot_id: _Optional[int] = ..., step: _Optional[int] = ..., action: _Optional[_Union[Action, str]] = ..., enforced: bool = ..., reason: _Optional[_Union[Reason, str]] = ..., detail: _Optional[str] = ..., evidence: _Optional[_Mapping[str, float]] = ..., kess_step: _Optional[float] = ..., predicted_loss_at_kess: _Optional[float] = ..., policy: _Optional[str] = ..., decided_at_unix_ms: _Optional[int] = ...) -> None: ...

class DetectorReport(_message.Message):
    __slots__ = ["catapult_confirmed", "catapult_events", "catapult_in_progress", "edge_of_stability", "imminent_instability", "kernel_frozen", "kernel_moving", "loaded_plateau", "loss_spike", "plateau", "progressive_sharpening", "regime"]
    CATAPULT_CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    CATAPULT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    CATAPULT_IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    EDGE_OF_STABILITY_FIELD_NUMBER: _ClassVar[int]
    IMMINENT_INSTABILITY_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FROZEN_FIELD_NUMBER: _ClassVar[int]
    KERNEL_MOVING_FIELD_NUMBER: _ClassVar[int]
    LOADED_PLATEAU_FIELD_NUMBER: _ClassVar[int]
    LOSS_SPIKE_FIELD_NUMBER: _ClassVar[int]
    PLATEAU_FIELD_NUMBER: _ClassVar[int]
    PROGRESSIVE_SHARPENING_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    catapult_confirmed: bool
    catapult_events: int
    catapult_in_progress: bool
    edge_of_stability: bool
    imminent_instability: bool
    kernel_frozen: bool
    kernel_moving: bool
    loaded_plateau: bool
    loss_spike: bool
    plateau: bool
    progressive_sharpening: bool
    regime: str
    def __init__(self, loss_spike: bool = ..., catapult_in_progress: bool = ..., catapult_confirmed: bool = ..., edge_of_stability: bool = ..., imminent_instability: bool = ..., progressive_sharpening: bool = ..., plateau: bool = ..., loaded_plateau: bool = ..., kernel_moving: bool = ..., kernel_frozen: bool = ..., regime: _Optional[str] = ..., catapult_events: _Optional[int] = ...) -> None: ...

class DiagnosticsReport(_message.Message):
    __slots__ = ["alignment", "detectors", "drift", "generalization", "prediction", "residual", "stability"]
    ALIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DETECTORS_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    GENERALIZATION_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    STABILITY_FIELD_NUMBER: _ClassVar[int]
    alignment: AlignmentReport
    detectors: DetectorReport
    drift: DriftReport
    generalization: GeneralizationReport
    prediction: PredictionReport
    residual: ResidualReport
    stability: StabilityReport
    def __init__(self, stability: _Optional[_Union[StabilityReport, _Mapping]] = ..., drift: _Optional[_Union[DriftReport, _Mapping]] = ..., alignment: _Optional[_Union[AlignmentReport, _Mapping]] = ..., residual: _Optional[_Union[ResidualReport, _Mapping]] = ..., prediction: _Optional[_Union[PredictionReport, _Mapping]] = ..., detectors: _Optional[_Union[DetectorReport, _Mapping]] = ..., generalization: _Optional[_Union[GeneralizationReport, _Mapping]] = ...) -> None: ...

class DriftReport(_message.Message):
    __slots__ = ["comparable", "distance_init", "distance_prev", "relative_change_init", "sketch_floor", "subspace_overlap", "trace_ratio", "velocity_per_kstep"]
    COMPARABLE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_INIT_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_PREV_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_CHANGE_INIT_FIELD_NUMBER: _ClassVar[int]
    SKETCH_FLOOR_FIELD_NUMBER: _ClassVar[int]
    SUBSPACE_OVERLAP_FIELD_NUMBER: _ClassVar[int]
    TRACE_RATIO_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_PER_KSTEP_FIELD_NUMBER: _ClassVar[int]
    comparable: bool
    distance_init: float
    distance_prev: float
    relative_change_init: float
    sketch_floor: float
    subspace_overlap: float
    trace_ratio: float
    velocity_per_kstep: float
    def __init__(self, distance_prev: _Optional[float] = ..., distance_init: _Optional[float] = ..., velocity_per_kstep: _Optional[float] = ..., relative_change_init: _Optional[float] = ..., trace_ratio: _Optional[float] = ..., subspace_overlap: _Optional[float] = ..., sketch_floor: _Optional[float] = ..., comparable: bool = ...) -> None: ...

class EndRunRequest(_message.Message):
    __slots__ = ["run_id", "status"]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: RunStatus
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ...) -> None: ...

class EndRunResponse(_message.Message):
    __slots__ = ["existed", "last_decision", "run_id"]
    EXISTED_FIELD_NUMBER: _ClassVar[int]
    LAST_DECISION_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    existed: bool
    last_decision: Decision
    run_id: str
    def __init__(self, run_id: _Optional[str] = ..., existed: bool = ..., last_decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class EvalProbe(_message.Message):
    __slots__ = ["held_out", "num_samples", "sample_ids_hash", "targets"]
    HELD_OUT_FIELD_NUMBER: _ClassVar[int]
    NUM_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_IDS_HASH_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    held_out: bool
    num_samples: int
    sample_ids_hash: str
    targets: Tensor
    def __init__(self, num_samples: _Optional[int] = ..., targets: _Optional[_Union[Tensor, _Mapping]] = ..., held_out: bool = ..., sample_ids_hash: _Optional[str] = ...) -> None: ...

class GeneralizationReport(_message.Message):
    __slots__ = ["coherence", "discrepancy", "eval_accuracy", "eval_changed", "eval_margin", "gcv_error", "held_out", "label_wave_step", "loo_accuracy", "loo_error"]
    COHERENCE_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_FIELD_NUMBER: _ClassVar[int]
    EVAL_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    EVAL_CHANGED_FIELD_NUMBER: _ClassVar[int]
    EVAL_MARGIN_FIELD_NUMBER: _ClassVar[int]
    GCV_ERROR_FIELD_NUMBER: _ClassVar[int]
    HELD_OUT_FIELD_NUMBER: _ClassVar[int]
    LABEL_WAVE_STEP_FIELD_NUMBER: _ClassVar[int]
    LOO_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LOO_ERROR_FIELD_NUMBER: _ClassVar[int]
    coherence: float
    discrepancy: float
    eval_accuracy: float
    eval_changed: float
    eval_margin: float
    gcv_error: float
    held_out: bool
    label_wave_step: float
    loo_accuracy: float
    loo_error: float
    def __init__(self, loo_accuracy: _Optional[float] = ..., loo_error: _Optional[float] = ..., gcv_error: _Optional[float] = ..., coherence: _Optional[float] = ..., discrepancy: _Optional[float] = ..., eval_accuracy: _Optional[float] = ..., eval_margin: _Optional[float] = ..., eval_changed: _Optional[float] = ..., label_wave_step: _Optional[float] = ..., held_out: bool = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ["run_id"]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ["cohort", "job_id", "page_size", "page_token"]
    COHORT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    job_id: str
    page_size: int
    page_token: str
    def __init__(self, job_id: _Optional[str] = ..., cohort: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ["next_page_token", "runs"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    runs: _containers.RepeatedCompositeFieldContainer[RunSummary]
    def __init__(self, runs: _Optional[_Iterable[_Union[RunSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LossSpec(_message.Message):
    __slots__ = ["kind", "scale"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    kind: LossKind
    scale: float
    def __init__(self, kind: _Optional[_Union[LossKind, str]] = ..., scale: _Optional[float] = ...) -> None: ...

class OptimizerSpec(_message.Message):
    __slots__ = ["beta1", "beta2", "kind", "momentum", "weight_decay"]
    BETA1_FIELD_NUMBER: _ClassVar[int]
    BETA2_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    beta1: float
    beta2: float
    kind: OptimizerKind
    momentum: float
    weight_decay: float
    def __init__(self, kind: _Optional[_Union[OptimizerKind, str]] = ..., momentum: _Optional[float] = ..., beta1: _Optional[float] = ..., beta2: _Optional[float] = ..., weight_decay: _Optional[float] = ...) -> None: ...

class PredictionReport(_message.Message):
    __slots__ = ["gain_avg_ratio", "gain_per_step", "gain_remaining", "kess_k1", "kess_k2", "kess_k3", "kess_k4", "loss_at_horizon", "loss_floor", "predicted_loss_at_kess", "time_r2", "time_scale", "valid"]
    GAIN_AVG_RATIO_FIELD_NUMBER: _ClassVar[int]
    GAIN_PER_STEP_FIELD_NUMBER: _ClassVar[int]
    GAIN_REMAINING_FIELD_NUMBER: _ClassVar[int]
    KESS_K1_FIELD_NUMBER: _ClassVar[int]
    KESS_K2_FIELD_NUMBER: _ClassVar[int]
    KESS_K3_FIELD_NUMBER: _ClassVar[int]
    KESS_K4_FIELD_NUMBER: _ClassVar[int]
    LOSS_AT_HORIZON_FIELD_NUMBER: _ClassVar[int]
    LOSS_FLOOR_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_LOSS_AT_KESS_FIELD_NUMBER: _ClassVar[int]
    TIME_R2_FIELD_NUMBER: _ClassVar[int]
    TIME_SCALE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    gain_avg_ratio: float
    gain_per_step: float
    gain_remaining: float
    kess_k1: float
    kess_k2: float
    kess_k3: float
    kess_k4: float
    loss_at_horizon: float
    loss_floor: float
    predicted_loss_at_kess: float
    time_r2: float
    time_scale: float
    valid: bool
    def __init__(self, valid: bool = ..., time_scale: _Optional[float] = ..., time_r2: _Optional[float] = ..., kess_k1: _Optional[float] = ..., kess_k2: _Optional[float] = ..., kess_k3: _Optional[float] = ..., kess_k4: _Optional[float] = ..., predicted_loss_at_kess: _Optional[float] = ..., loss_at_horizon: _Optional[float] = ..., gain_per_step: _Optional[float] = ..., gain_avg_ratio: _Optional[float] = ..., gain_remaining: _Optional[float] = ..., loss_floor: _Optional[float] = ...) -> None: ...

class ProbeSet(_message.Message):
    __slots__ = ["num_outputs", "num_samples", "sample_ids_hash", "targets"]
    NUM_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    NUM_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_IDS_HASH_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    num_outputs: int
    num_samples: int
    sample_ids_hash: str
    targets: Tensor
    def __init__(self, num_samples: _Optional[int] = ..., num_outputs: _Optional[int] = ..., sample_ids_hash: _Optional[str] = ..., targets: _Optional[_Union[Tensor, _Mapping]] = ...) -> None: ...

class ResidualReport(_message.Message):
    __slots__ = ["learned_modes", "linearization_gap", "rayleigh", "residual_norm", "topk"]
    LEARNED_MODES_FIELD_NUMBER: _ClassVar[int]
    LINEARIZATION_GAP_FIELD_NUMBER: _ClassVar[int]
    RAYLEIGH_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_NORM_FIELD_NUMBER: _ClassVar[int]
    TOPK_FIELD_NUMBER: _ClassVar[int]
    learned_modes: float
    linearization_gap: float
    rayleigh: float
    residual_norm: float
    topk: _containers.RepeatedCompositeFieldContainer[CurvePoint]
    def __init__(self, topk: _Optional[_Iterable[_Union[CurvePoint, _Mapping]]] = ..., rayleigh: _Optional[float] = ..., residual_norm: _Optional[float] = ..., learned_modes: _Optional[float] = ..., linearization_gap: _Optional[float] = ...) -> None: ...

class RunAccepted(_message.Message):
    __slots__ = ["backend", "max_chunk_bytes", "max_rows", "max_snapshot_bytes", "resumed", "run_id", "server_version"]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_SNAPSHOT_BYTES_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    backend: str
    max_chunk_bytes: int
    max_rows: int
    max_snapshot_bytes: int
    resumed: bool
    run_id: str
    server_version: str
    def __init__(self, run_id: _Optional[str] = ..., max_chunk_bytes: _Optional[int] = ..., max_rows: _Optional[int] = ..., backend: _Optional[str] = ..., server_version: _Optional[str] = ..., resumed: bool = ..., max_snapshot_bytes: _Optional[int] = ...) -> None: ...

class RunEnd(_message.Message):
    __slots__ = ["status"]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: RunStatus
    def __init__(self, status: _Optional[_Union[RunStatus, str]] = ...) -> None: ...

class RunReport(_message.Message):
    __slots__ = ["backend", "cohort", "compute_after_would_stop", "decision", "decisions_by_reason", "job_id", "last_step", "last_train_loss", "latest", "num_outputs", "num_samples", "policy", "rank", "recent_decisions", "run_id", "snapshots_accepted", "snapshots_rejected", "state", "status", "steps_after_would_stop", "would_stop_step"]
    class DecisionsByReasonEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    COHORT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_AFTER_WOULD_STOP_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    LAST_TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    NUM_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    NUM_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RECENT_DECISIONS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_REJECTED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_AFTER_WOULD_STOP_FIELD_NUMBER: _ClassVar[int]
    WOULD_STOP_STEP_FIELD_NUMBER: _ClassVar[int]
    backend: str
    cohort: str
    compute_after_would_stop: float
    decision: Decision
    decisions_by_reason: _containers.ScalarMap[str, int]
    job_id: str
    last_step: int
    last_train_loss: float
    latest: SnapshotReport
    num_outputs: int
    num_samples: int
    policy: str
    rank: int
    recent_decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    run_id: str
    snapshots_accepted: int
    snapshots_rejected: int
    state: str
    status: RunStatus
    steps_after_would_stop: float
    would_stop_step: float
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ..., cohort: _Optional[str] = ..., rank: _Optional[int] = ..., state: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., snapshots_accepted: _Optional[int] = ..., snapshots_rejected: _Optional[int] = ..., last_step: _Optional[int] = ..., latest: _Optional[_Union[SnapshotReport, _Mapping]] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ..., decisions_by_reason: _Optional[_Mapping[str, int]] = ..., backend: _Optional[str] = ..., policy: _Optional[str] = ..., num_samples: _Optional[int] = ..., num_outputs: _Optional[int] = ..., last_train_loss: _Optional[float] = ..., recent_decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., would_stop_step: _Optional[float] = ..., compute_after_would_stop: _Optional[float] = ..., steps_after_would_stop: _Optional[float] = ...) -> None: ...

class RunStart(_message.Message):
    __slots__ = ["budget", "cohort", "eval_probe", "job_id", "label_noise_sigma", "labels", "learning_rate", "loss", "optimizer", "param_count", "policy", "probe", "rank", "run_id", "sketch", "train_set_size", "warmup_steps", "world_size"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    COHORT_FIELD_NUMBER: _ClassVar[int]
    EVAL_PROBE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_NOISE_SIGMA_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    PARAM_COUNT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SKETCH_FIELD_NUMBER: _ClassVar[int]
    TRAIN_SET_SIZE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    cohort: str
    eval_probe: EvalProbe
    job_id: str
    label_noise_sigma: float
    labels: _containers.ScalarMap[str, str]
    learning_rate: float
    loss: LossSpec
    optimizer: OptimizerSpec
    param_count: int
    policy: str
    probe: ProbeSet
    rank: int
    run_id: str
    sketch: SketchSpec
    train_set_size: int
    warmup_steps: int
    world_size: int
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ..., rank: _Optional[int] = ..., world_size: _Optional[int] = ..., cohort: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., probe: _Optional[_Union[ProbeSet, _Mapping]] = ..., loss: _Optional[_Union[LossSpec, _Mapping]] = ..., optimizer: _Optional[_Union[OptimizerSpec, _Mapping]] = ..., learning_rate: _Optional[float] = ..., param_count: _Optional[int] = ..., sketch: _Optional[_Union[SketchSpec, _Mapping]] = ..., policy: _Optional[str] = ..., budget: _Optional[_Union[Budget, _Mapping]] = ..., warmup_steps: _Optional[int] = ..., train_set_size: _Optional[int] = ..., eval_probe: _Optional[_Union[EvalProbe, _Mapping]] = ..., label_noise_sigma: _Optional[float] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ["action", "cohort", "job_id", "last_step", "rank", "reason", "run_id", "state"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COHORT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    action: Action
    cohort: str
    job_id: str
    last_step: int
    rank: int
    reason: Reason
    run_id: str
    state: str
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ..., cohort: _Optional[str] = ..., rank: _Optional[int] = ..., state: _Optional[str] = ..., last_step: _Optional[int] = ..., action: _Optional[_Union[Action, str]] = ..., reason: _Optional[_Union[Reason, str]] = ...) -> None: ...

class Scalars(_message.Message):
    __slots__ = ["compute_spent", "eval", "learning_rate", "samples_seen", "step", "train_loss"]
    class EvalEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    COMPUTE_SPENT_FIELD_NUMBER: _ClassVar[int]
    EVAL_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_SEEN_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    compute_spent: float
    eval: _containers.ScalarMap[str, float]
    learning_rate: float
    samples_seen: int
    step: int
    train_loss: float
    def __init__(self, step: _Optional[int] = ..., train_loss: _Optional[float] = ..., learning_rate: _Optional[float] = ..., samples_seen: _Optional[int] = ..., compute_spent: _Optional[float] = ..., eval: _Optional[_Mapping[str, float]] = ...) -> None: ...

class SidecarMessage(_message.Message):
    __slots__ = ["accepted", "ack", "decision"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    accepted: RunAccepted
    ack: SnapshotAck
    decision: Decision
    def __init__(self, accepted: _Optional[_Union[RunAccepted, _Mapping]] = ..., ack: _Optional[_Union[SnapshotAck, _Mapping]] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class SketchSpec(_message.Message):
    __slots__ = ["dim", "kind", "seed"]
    DIM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    dim: int
    kind: SketchKind
    seed: int
    def __init__(self, kind: _Optional[_Union[SketchKind, str]] = ..., dim: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class SnapshotAck(_message.Message):
    __slots__ = ["accepted", "code", "message", "snapshot_id"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    code: int
    message: str
    snapshot_id: int
    def __init__(self, snapshot_id: _Optional[int] = ..., accepted: bool = ..., code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class SnapshotEnd(_message.Message):
    __slots__ = ["chunk_count", "snapshot_id", "total_bytes"]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    chunk_count: int
    snapshot_id: int
    total_bytes: int
    def __init__(self, snapshot_id: _Optional[int] = ..., chunk_count: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class SnapshotHeader(_message.Message):
    __slots__ = ["compute_spent", "kernel_preconditioned", "kernel_reduction", "learning_rate", "samples_seen", "snapshot_id", "step", "tensors", "train_loss"]
    COMPUTE_SPENT_FIELD_NUMBER: _ClassVar[int]
    KERNEL_PRECONDITIONED_FIELD_NUMBER: _ClassVar[int]
    KERNEL_REDUCTION_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_SEEN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    compute_spent: float
    kernel_preconditioned: bool
    kernel_reduction: KernelReduction
    learning_rate: float
    samples_seen: int
    snapshot_id: int
    step: int
    tensors: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    train_loss: float
    def __init__(self, snapshot_id: _Optional[int] = ..., step: _Optional[int] = ..., samples_seen: _Optional[int] = ..., compute_spent: _Optional[float] = ..., learning_rate: _Optional[float] = ..., train_loss: _Optional[float] = ..., tensors: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., kernel_reduction: _Optional[_Union[KernelReduction, str]] = ..., kernel_preconditioned: bool = ...) -> None: ...

class SnapshotReport(_message.Message):
    __slots__ = ["analysis_seconds", "backend", "diagnostics", "finite", "received_bytes", "snapshot_id", "source", "spectra", "step", "train_loss"]
    ANALYSIS_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    FINITE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SPECTRA_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    analysis_seconds: float
    backend: str
    diagnostics: DiagnosticsReport
    finite: bool
    received_bytes: int
    snapshot_id: int
    source: str
    spectra: _containers.RepeatedCompositeFieldContainer[SpectrumReport]
    step: int
    train_loss: float
    def __init__(self, snapshot_id: _Optional[int] = ..., step: _Optional[int] = ..., train_loss: _Optional[float] = ..., source: _Optional[str] = ..., spectra: _Optional[_Iterable[_Union[SpectrumReport, _Mapping]]] = ..., analysis_seconds: _Optional[float] = ..., backend: _Optional[str] = ..., received_bytes: _Optional[int] = ..., finite: bool = ..., diagnostics: _Optional[_Union[DiagnosticsReport, _Mapping]] = ...) -> None: ...

class SpectrumReport(_message.Message):
    __slots__ = ["computed_pairs", "condition_pos", "condition_reg", "decay_exponent", "decay_max_abs_residual", "decay_r2", "decay_window_hi", "decay_window_lo", "effective_rank_entropy", "effective_rank_participation", "effective_rank_stable", "eigenvalues", "eigenvalues_normalized", "esd_alpha", "esd_ks", "esd_xmin", "kernel", "lambda_max", "max_residual", "numerical_rank", "rank_deficiency", "size", "solver", "tolerance", "trace", "trace_per_output"]
    COMPUTED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    CONDITION_POS_FIELD_NUMBER: _ClassVar[int]
    CONDITION_REG_FIELD_NUMBER: _ClassVar[int]
    DECAY_EXPONENT_FIELD_NUMBER: _ClassVar[int]
    DECAY_MAX_ABS_RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    DECAY_R2_FIELD_NUMBER: _ClassVar[int]
    DECAY_WINDOW_HI_FIELD_NUMBER: _ClassVar[int]
    DECAY_WINDOW_LO_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_RANK_ENTROPY_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_RANK_PARTICIPATION_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_RANK_STABLE_FIELD_NUMBER: _ClassVar[int]
    EIGENVALUES_FIELD_NUMBER: _ClassVar[int]
    EIGENVALUES_NORMALIZED_FIELD_NUMBER: _ClassVar[int]
    ESD_ALPHA_FIELD_NUMBER: _ClassVar[int]
    ESD_KS_FIELD_NUMBER: _ClassVar[int]
    ESD_XMIN_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    LAMBDA_MAX_FIELD_NUMBER: _ClassVar[int]
    MAX_RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    NUMERICAL_RANK_FIELD_NUMBER: _ClassVar[int]
    RANK_DEFICIENCY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SOLVER_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    TRACE_PER_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    computed_pairs: int
    condition_pos: float
    condition_reg: float
    decay_exponent: float
    decay_max_abs_residual: float
    decay_r2: float
    decay_window_hi: int
    decay_window_lo: int
    effective_rank_entropy: float
    effective_rank_participation: float
    effective_rank_stable: float
    eigenvalues: _containers.RepeatedScalarFieldContainer[float]
    eigenvalues_normalized: _containers.RepeatedScalarFieldContainer[float]
    esd_alpha: float
    esd_ks: float
    esd_xmin: float
    kernel: str
    lambda_max: float
    max_residual: float
    numerical_rank: int
    rank_deficiency: int
    size: int
    solver: str
    tolerance: float
    trace: float
    trace_per_output: float
    def __init__(self, kernel: _Optional[str] = ..., size: _Optional[int] = ..., solver: _Optional[str] = ..., trace: _Optional[float] = ..., trace_per_output: _Optional[float] = ..., lambda_max: _Optional[float] = ..., eigenvalues: _Optional[_Iterable[float]] = ..., eigenvalues_normalized: _Optional[_Iterable[float]] = ..., numerical_rank: _Optional[int] = ..., rank_deficiency: _Optional[int] = ..., tolerance: _Optional[float] = ..., condition_pos: _Optional[float] = ..., condition_reg: _Optional[float] = ..., decay_exponent: _Optional[float] = ..., decay_r2: _Optional[float] = ..., decay_window_lo: _Optional[int] = ..., decay_window_hi: _Optional[int] = ..., decay_max_abs_residual: _Optional[float] = ..., esd_alpha: _Optional[float] = ..., esd_ks: _Optional[float] = ..., esd_xmin: _Optional[float] = ..., effective_rank_entropy: _Optional[float] = ..., effective_rank_participation: _Optional[float] = ..., effective_rank_stable: _Optional[float] = ..., max_residual: _Optional[float] = ..., computed_pairs: _Optional[int] = ...) -> None: ...

class StabilityReport(_message.Message):
    __slots__ = ["band", "eos_ratio", "gn_sharpness", "preconditioned", "threshold"]
    BAND_FIELD_NUMBER: _ClassVar[int]
    EOS_RATIO_FIELD_NUMBER: _ClassVar[int]
    GN_SHARPNESS_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    band: str
    eos_ratio: float
    gn_sharpness: float
    preconditioned: bool
    threshold: float
    def __init__(self, gn_sharpness: _Optional[float] = ..., threshold: _Optional[float] = ..., eos_ratio: _Optional[float] = ..., preconditioned: bool = ..., band: _Optional[str] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ["data", "dtype", "shape"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class TensorChunk(_message.Message):
    __slots__ = ["cols", "crc32c", "data", "dtype", "offset", "rows", "snapshot_id", "tensor"]
    COLS_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    cols: int
    crc32c: int
    data: bytes
    dtype: DType
    offset: int
    rows: int
    snapshot_id: int
    tensor: TensorKind
    def __init__(self, snapshot_id: _Optional[int] = ..., tensor: _Optional[_Union[TensorKind, str]] = ..., offset: _Optional[int] = ..., rows: _Optional[int] = ..., cols: _Optional[int] = ..., dtype: _Optional[_Union[DType, str]] = ..., data: _Optional[bytes] = ..., crc32c: _Optional[int] = ...) -> None: ...

class TensorSpec(_message.Message):
    __slots__ = ["cols", "dtype", "rows", "tensor"]
    COLS_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    cols: int
    dtype: DType
    rows: int
    tensor: TensorKind
    def __init__(self, tensor: _Optional[_Union[TensorKind, str]] = ..., dtype: _Optional[_Union[DType, str]] = ..., rows: _Optional[int] = ..., cols: _Optional[int] = ...) -> None: ...

class TrainerMessage(_message.Message):
    __slots__ = ["chunk", "end", "finish", "header", "scalars", "start"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    chunk: TensorChunk
    end: SnapshotEnd
    finish: RunEnd
    header: SnapshotHeader
    scalars: Scalars
    start: RunStart
    def __init__(self, start: _Optional[_Union[RunStart, _Mapping]] = ..., header: _Optional[_Union[SnapshotHeader, _Mapping]] = ..., chunk: _Optional[_Union[TensorChunk, _Mapping]] = ..., end: _Optional[_Union[SnapshotEnd, _Mapping]] = ..., scalars: _Optional[_Union[Scalars, _Mapping]] = ..., finish: _Optional[_Union[RunEnd, _Mapping]] = ...) -> None: ...

class TensorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LossKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class OptimizerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class SketchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class KernelReduction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
