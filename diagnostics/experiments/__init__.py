"""The experiments: what each command computes, as plain data in and typed results out.

One module per concept: ``gradient`` (one MLP configuration probed on
fresh networks, beside the theory's prediction), ``lecture`` (the
lecture's matrix products and 13 networks, run as seeded tasks),
``critical``, ``spectra``, ``saved`` (a network from a file), ``training``, ``remedies`` and ``trainability`` (what those
commands compute).
The lecture's two experiments are described in
docs/tutorial-numerical-stability.md. Every result carries the theory's
prediction in typed fields. Each configuration draws from its own child of
``numpy.random.SeedSequence(seed)``, so results do not depend on how many
workers run them, or in what order. Nothing here prints: see
``diagnostics.report``.
"""

from .critical import CriticalResult, ScaleCheck, check_scales, critical_init_spec
from .gradient import (
    MAX_NETWORK_BYTES, STABLE_DECADES, ConfigPrediction, ExperimentResult, ProbeConfig, check_sizes,
    predict_config, synthetic_gradient, verdict,
)
from .lecture import (
    LECTURE_SCALES, MATRIX_SCALES, RANK_ONE_MARGIN, LectureResult, ProductPrediction, lecture_configs,
    lecture_tasks, random_product, run_lecture, run_tasks, sweep,
)
from .remedies import (
    AGREEMENT_DECADES, BATCH_SIZES, COTANGENTS, NETWORKS, REMEDIES, RemedyConfig, RemedyResult, RemedyResults, predict_remedy,
    remedy_configs, run_remedies, run_remedy,
)
from .saved import described_by_its_weights, load_model, probe_model
from .spectra import SpectrumResult, measure_spectra
from .training import DATASETS, TrainResult, probe_before_training, train
from .trainability import (
    AGREEMENT_FACTOR, SIGMA_W2_FACTORS, TRAINABILITY_DEPTHS, TRAINABLE_XI_C, TRAINED_ACCURACY, TrainabilityCell,
    TrainabilityColumn, TrainabilityResult, TrainingRecipe, default_sigma_w2, predicted_boundary, run_trainability,
    train_cell,
)

__all__ = [
    "ProbeConfig", "check_sizes", "MAX_NETWORK_BYTES", "ConfigPrediction", "predict_config", "ExperimentResult",
    "synthetic_gradient", "STABLE_DECADES", "verdict",
    "MATRIX_SCALES", "LECTURE_SCALES", "RANK_ONE_MARGIN", "lecture_configs", "ProductPrediction",
    "random_product", "run_tasks", "sweep", "LectureResult", "lecture_tasks", "run_lecture",
    "ScaleCheck", "CriticalResult", "critical_init_spec", "check_scales",
    "SpectrumResult", "measure_spectra", "load_model", "described_by_its_weights", "probe_model",
    "NETWORKS", "REMEDIES", "BATCH_SIZES", "COTANGENTS", "AGREEMENT_DECADES", "RemedyConfig", "remedy_configs",
    "RemedyResult", "RemedyResults", "predict_remedy", "run_remedy", "run_remedies",
    "DATASETS", "TrainResult", "probe_before_training", "train",
    "TRAINABLE_XI_C", "TRAINED_ACCURACY", "AGREEMENT_FACTOR", "SIGMA_W2_FACTORS", "TRAINABILITY_DEPTHS",
    "TrainingRecipe", "TrainabilityCell", "train_cell", "TrainabilityColumn", "TrainabilityResult",
    "default_sigma_w2", "predicted_boundary", "run_trainability",
]
