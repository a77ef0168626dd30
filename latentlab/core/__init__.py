"""LatentLab's model core: pure NumPy, never imports Qt.

Layers with forward/backward (:mod:`.layers`), per-sample losses (:mod:`.losses`),
models (:mod:`.models`), in-place optimisers (:mod:`.optim`), the trainer
(:mod:`.trainer`), data (:mod:`.data`) and model files (:mod:`.io`).
"""

from .data import Dataset, load_digits
from .datasets import DataFileError, load_dataset
from .io import ModelFileError, SavedModel, load_model, save_model
from .models import LossReport, Model, ModelConfig, build_model
from .registry import MODEL_KINDS, ModelKind
from .trainer import EpochReport, TrainConfig, Trainer, TrainingDiverged

__all__ = [
    "MODEL_KINDS", "DataFileError", "Dataset", "EpochReport", "LossReport", "Model", "ModelConfig",
    "ModelFileError", "ModelKind", "SavedModel", "TrainConfig", "Trainer", "TrainingDiverged",
    "build_model", "load_dataset", "load_digits", "load_model", "save_model",
]
