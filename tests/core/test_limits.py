"""The one table of limits: types are checked strictly, and the CLI and TrainConfig
accept exactly the same values."""

from __future__ import annotations

import math

import pytest

from latentlab.cli import build_parser
from latentlab.core import TrainConfig, limits

# TrainConfig field ↔ CLI option ↔ limit
SETTINGS = [
    ("epochs", "--epochs", limits.EPOCHS),
    ("warmup_epochs", "--warmup", limits.WARMUP_EPOCHS),
    ("latent_dim", "--latent-dim", limits.LATENT_DIM),
    ("hidden_dim", "--hidden-dim", limits.HIDDEN_DIM),
    ("batch_size", "--batch-size", limits.BATCH_SIZE),
    ("lr", "--lr", limits.LR),
    ("beta", "--beta", limits.BETA),
    ("clip_norm", "--clip-norm", limits.CLIP_NORM),
    ("seed", "--seed", limits.SEED),
]


@pytest.mark.parametrize("value", [True, False, 32.0, "64", None, [3]])
def test_integer_settings_take_only_ints(value: object) -> None:
    assert limits.HIDDEN_DIM.problem(value) is not None
    assert limits.HIDDEN_DIM.problem(32) is None


@pytest.mark.parametrize("value", [True, "0.1", math.nan, math.inf, -math.inf, None])
def test_real_settings_take_only_finite_numbers(value: object) -> None:
    assert limits.LR.problem(value) is not None
    assert limits.LR.problem(1) is None and limits.LR.problem(0.5) is None


def test_enormous_values_are_refused_with_a_short_message() -> None:
    for allowed in (limits.EPOCHS, limits.LR):
        for value in (10**400, -(10**400)):
            problem = allowed.problem(value)
            assert problem is not None and len(problem) < 120


def test_open_and_closed_ends() -> None:
    assert limits.LR.problem(0.0) is not None and limits.LR.problem(limits.LR.high) is None
    assert limits.MOMENTUM.problem(0.0) is None and limits.MOMENTUM.problem(1.0) is not None
    assert "learning_rate" in (limits.LR.problem(-1.0, "learning_rate") or "")


def _edges(allowed: limits.Range) -> tuple[list[float], list[float]]:
    """Values just inside and just outside ``allowed``."""
    step = 1 if allowed.integer else allowed.high * 1e-6
    inside = [allowed.high] + ([] if allowed.low_open else [allowed.low])
    outside = [allowed.high + step, allowed.low - step] + ([allowed.low] if allowed.low_open
                                                           else [])
    if allowed.integer:
        return [int(v) for v in inside], [int(v) for v in outside]
    return inside, outside


@pytest.mark.parametrize(("field", "option", "allowed"), SETTINGS)
def test_cli_and_train_config_agree_at_the_edges(field: str, option: str,
                                                 allowed: limits.Range) -> None:
    parser = build_parser()
    inside, outside = _edges(allowed)
    for value in inside:
        args = parser.parse_args(["train", option, str(value)])
        assert getattr(args, option[2:].replace("-", "_")) == value
        TrainConfig(**{field: value})
    for value in outside:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(["train", option, str(value)])
        assert exit_info.value.code == 2
        with pytest.raises(ValueError, match=field):
            TrainConfig(**{field: value})


def test_defaults_are_within_the_limits() -> None:
    defaults = TrainConfig()
    for field, _, allowed in SETTINGS:
        value = getattr(defaults, field)
        assert value is None or allowed.contains(value), field
    assert limits.BETA_SLIDER.low >= limits.BETA.low
    assert limits.BETA_SLIDER.high <= limits.BETA.high
