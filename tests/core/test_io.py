"""Model files: round trip, atomic saves, and clear errors for bad files."""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import (
    MODEL_KINDS,
    EpochReport,
    ModelConfig,
    ModelFileError,
    TrainConfig,
    Trainer,
    build_model,
    load_digits,
    load_model,
    save_model,
)
from latentlab.core.io import (
    MODEL_FILE_KINDS,
    WriteFailed,
    atomic_write_bytes,
    atomic_write_path,
    atomic_write_text,
    writable_target,
)


@pytest.fixture(scope="module")
def trained() -> Trainer:
    trainer = Trainer(TrainConfig(epochs=2, beta=0.5, latent_dim=3), load_digits().images)
    list(trainer.train())
    return trainer


def test_round_trip(trained: Trainer, tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.npz", trained.model, trained.config, trained.history)
    saved = load_model(path)
    np.testing.assert_array_equal(saved.model.weights, trained.model.weights)
    assert saved.model.config == trained.model.config
    assert saved.config == trained.config
    assert saved.history == trained.history
    x = load_digits().images[:10]
    np.testing.assert_array_equal(saved.model.encode(x)[0], trained.model.encode(x)[0])
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_save_is_atomic_and_keeps_the_old_file_on_failure(
        trained: Trainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_model(tmp_path / "m.npz", trained.model, trained.config, trained.history)
    good = path.read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, trained.model, trained.config)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]  # no temporary file left behind


def _write_npz(path: Path, **arrays: np.ndarray) -> Path:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def _metadata(trained: Trainer, **changes: object) -> np.ndarray:
    meta = {"format": "latentlab-model", "format_version": 1,
            "model": {"kind": "vae", "input_dim": 64, "hidden_dim": 32, "latent_dim": 3,
                      "dtype": "float32"},
            "train": trained.config.to_dict(), "history": []}
    meta.update(changes)
    return np.array(json.dumps(meta))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.npz")


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.npz"
    path.write_bytes(os.urandom(2000))
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        load_model(path)


def test_truncated_file(trained: Trainer, tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.npz", trained.model, trained.config, trained.history)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        load_model(path)


def test_pickled_object_arrays_are_refused(tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "evil.npz", weights=np.array([{"x": 1}], dtype=object),
                      metadata=np.array("{}"))
    with pytest.raises(ModelFileError, match="refused"):
        load_model(path)


def test_wrong_kind_of_npz(tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "other.npz", images=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="missing metadata, weights"):
        load_model(path)


def test_not_json_metadata(tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "m.npz", weights=np.zeros(3), metadata=np.array("{oops"))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(path)


def test_newer_format_version(trained: Trainer, tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "m.npz", weights=trained.model.weights,
                      metadata=_metadata(trained, format_version=99))
    with pytest.raises(ModelFileError, match="update LatentLab"):
        load_model(path)


def test_weights_that_do_not_match_the_architecture(trained: Trainer, tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "m.npz", weights=np.zeros(10, np.float32),
                      metadata=_metadata(trained))
    with pytest.raises(ModelFileError, match="do not match"):
        load_model(path)


def test_non_finite_weights(trained: Trainer, tmp_path: Path) -> None:
    weights = trained.model.weights.copy()
    weights[5] = np.nan
    path = _write_npz(tmp_path / "m.npz", weights=weights, metadata=_metadata(trained))
    with pytest.raises(ModelFileError, match="NaN"):
        load_model(path)


def test_invalid_settings(trained: Trainer, tmp_path: Path) -> None:
    path = _write_npz(tmp_path / "m.npz", weights=trained.model.weights,
                      metadata=_metadata(trained, model={"kind": "gan"}))
    with pytest.raises(ModelFileError, match="invalid model settings"):
        load_model(path)


# -- atomic writes -----------------------------------------------------------------------
def test_path_based_writer_gets_a_temp_name_with_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "map.png"
    target.write_bytes(b"old")
    seen: list[str] = []

    def write(name: str) -> bool:
        seen.append(name)
        Path(name).write_bytes(PNG)
        return True

    assert atomic_write_path(target, write) == target
    assert target.read_bytes() == PNG
    temp = Path(seen[0])
    assert temp.parent == tmp_path and temp.name.startswith(".map.png.latentlab-")
    assert temp.suffix == ".png"
    assert sorted(os.listdir(tmp_path)) == ["map.png"]


PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def test_a_cut_short_image_is_not_published(tmp_path: Path) -> None:
    """Qt's writers return success after a short write on a full disk."""
    target = tmp_path / "gallery.png"
    target.write_bytes(PNG)
    with pytest.raises(WriteFailed, match="cut short"):
        atomic_write_path(target, lambda name: Path(name).write_bytes(PNG[:-6]) and True)
    assert target.read_bytes() == PNG and os.listdir(tmp_path) == ["gallery.png"]


@pytest.mark.parametrize("outcome", ["false", "raise", "empty", "enospc"])
def test_failed_path_write_keeps_the_old_file(tmp_path: Path, outcome: str) -> None:
    target = tmp_path / "curves.svg"
    target.write_bytes(b"old svg")

    def write(name: str) -> bool:
        Path(name).write_bytes(b"half")
        if outcome == "raise":
            raise RuntimeError("exporter crashed")
        if outcome == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device")
        if outcome == "empty":
            Path(name).write_bytes(b"")
        return outcome != "false"

    expected = RuntimeError if outcome == "raise" else WriteFailed
    with pytest.raises(expected) as info:
        atomic_write_path(target, write)
    if expected is WriteFailed:
        assert "curves.svg" in str(info.value) and "unchanged" in str(info.value)
        assert "\n" not in str(info.value)
    assert target.read_bytes() == b"old svg"
    assert sorted(os.listdir(tmp_path)) == ["curves.svg"]


def test_stale_temps_of_ours_are_removed_by_the_next_save(tmp_path: Path) -> None:
    target = tmp_path / "m.csv"
    ours = [".m.csv.latentlab-abcd_123.tmp", ".m.csv.latentlab-zz99zz99.tmp.csv"]
    not_ours = [".m.csv.abcd1234.tmp", ".other.csv.latentlab-abcd1234.tmp",
                "m.csv.latentlab-abcd1234.tmp", ".m.csv.latentlab-abcd1234.tmp.bak.x"]
    for name in ours + not_ours:
        (tmp_path / name).write_bytes(b"litter")
    atomic_write_text(target, "a,b\n")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.csv", *not_ours])


def test_a_temp_locked_by_a_live_save_is_not_removed(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    target = tmp_path / "m.npz"
    busy = tmp_path / ".m.npz.latentlab-busy0000.tmp"
    with open(busy, "wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        atomic_write_bytes(target, b"x")
        assert busy.exists()
    atomic_write_bytes(target, b"y")
    assert not busy.exists()


def test_writable_target_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to("/dev/null")
    cases = {fifo: "a FIFO", tmp_path / "folder": "a folder",
             Path("/dev/null"): "a device", tmp_path / "link": "a device",
             tmp_path / "missing" / "m.npz": "does not exist"}
    for path, reason in cases.items():
        with pytest.raises(WriteFailed, match=reason):
            writable_target(path)
        with pytest.raises(WriteFailed, match=reason):
            atomic_write_bytes(path, b"data")
    assert sorted(os.listdir(tmp_path)) == ["folder", "link", "pipe"]


def test_writing_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


# -- model-file validation ------------------------------------------------------------------
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_model_kind_has_a_file_entry_with_the_right_weight_count(kind: str) -> None:
    for dims in ((64, 32, 2), (784, 5, 7), (4, 1, 1)):
        config = ModelConfig(kind=kind, input_dim=dims[0], hidden_dim=dims[1],
                             latent_dim=dims[2])
        section = asdict(config)
        assert set(MODEL_FILE_KINDS[kind].fields) == set(section)
        assert MODEL_FILE_KINDS[kind].n_weights(section) == build_model(config).weights.size


def test_format_1_files_with_the_history_in_json_still_load(trained: Trainer,
                                                            tmp_path: Path) -> None:
    history = [r.to_dict() for r in trained.history]
    path = _write_npz(tmp_path / "v1.npz", weights=trained.model.weights,
                      metadata=_metadata(trained, history=history))
    saved = load_model(path)
    assert saved.history == trained.history
    np.testing.assert_array_equal(saved.model.weights, trained.model.weights)


def test_a_long_history_round_trips(trained: Trainer, tmp_path: Path) -> None:
    long = [EpochReport(epoch=i + 1, recon=0.5, kl=0.25, total=0.75, beta=1.0, seconds=0.01)
            for i in range(50_000)]
    path = save_model(tmp_path / "long.npz", trained.model, trained.config, long)
    assert load_model(path).history == long


@pytest.mark.parametrize(("changes", "message"), [
    ({"model": {"kind": "vae", "input_dim": 64, "hidden_dim": "32", "latent_dim": 3,
                "dtype": "float32"}}, "hidden_dim must be a whole number"),
    ({"model": {"kind": "vae", "input_dim": 64, "hidden_dim": 32.0, "latent_dim": 3,
                "dtype": "float32"}}, "hidden_dim must be a whole number"),
    ({"model": {"kind": "vae", "input_dim": 64, "hidden_dim": 32, "latent_dim": True,
                "dtype": "float32"}}, "latent_dim must be a whole number"),
    ({"model": {"kind": "vae", "input_dim": 64, "hidden_dim": 10**9, "latent_dim": 3,
                "dtype": "float32"}}, "hidden_dim must be a whole number from 1 to 1,024"),
    ({"model": {"kind": "vae", "input_dim": 64, "hidden_dim": 32, "latent_dim": 3,
                "dtype": "float32", "extra": 1}}, "unknown extra"),
    ({"model": ["vae"]}, "expected an object, found list"),
    ({"train": "fast"}, "invalid training settings"),
    ({"train": [1, 2]}, "invalid training settings"),
    ({"train": {"epochs": "64"}}, "epochs must be a whole number"),
    ({"format_version": -1}, "not a model format version"),
    ({"format_version": 0}, "not a model format version"),
    ({"format_version": True}, "not a model format version"),
    ({"format_version": 1.0}, "not a model format version"),
    ({"history": "x"}, "invalid history"),
    ({"history": [{"epoch": "1"}]}, "invalid history"),
    ({"n_weights": 5}, "metadata says 5"),
])
def test_every_metadata_field_is_checked_before_building(
        trained: Trainer, tmp_path: Path, changes: dict[str, object], message: str) -> None:
    path = _write_npz(tmp_path / "m.npz", weights=trained.model.weights,
                      metadata=_metadata(trained, **changes))
    with pytest.raises(ModelFileError, match=re.escape(message)) as info:
        load_model(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_deep_metadata_is_refused_without_recursion(tmp_path: Path) -> None:
    deep = '{"format": "latentlab-model", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _write_npz(tmp_path / "deep.npz", weights=np.zeros(3), metadata=np.array(deep))
    with pytest.raises(ModelFileError, match="nested more than"):
        load_model(path)
