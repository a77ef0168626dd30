"""The synthetic stroke images: seeded, bounded, ten balanced and distinguishable classes."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import load_dataset
from latentlab.core.synthetic import CLASS_NAMES, stroke_images, synthetic_strokes


def test_same_seed_same_images_other_seed_other_images() -> None:
    a, la = stroke_images(300, seed=4)
    b, lb = stroke_images(300, seed=4)
    c, _ = stroke_images(300, seed=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


def test_shapes_range_and_balanced_labels() -> None:
    images, labels = stroke_images(2_003, seed=0)
    assert images.shape == (2_003, 28, 28) and images.dtype == np.float32
    assert labels.shape == (2_003,) and labels.dtype == np.int64
    assert images.min() >= 0.0 and images.max() <= 1.0
    counts = np.bincount(labels, minlength=len(CLASS_NAMES))
    assert len(counts) == 10 and counts.min() >= 200 and counts.max() <= 201
    # Every image has a stroke (ink) and mostly background, like a handwritten digit.
    ink = (images > 0.5).mean(axis=(1, 2))
    assert ink.min() > 0.02 and ink.max() < 0.5


def test_uint8_images_match_the_float_ones() -> None:
    f, lf = stroke_images(200, seed=1)
    u, lu = stroke_images(200, seed=1, dtype=np.uint8)
    assert u.dtype == np.uint8
    np.testing.assert_array_equal(lf, lu)
    assert np.abs(u / 255.0 - f).max() <= 0.5 / 255 + 1e-6


def test_classes_differ_more_than_images_within_a_class() -> None:
    images, labels = stroke_images(2_000, seed=2)
    x = images.reshape(len(images), -1).astype(np.float64)
    means = np.stack([x[labels == c].mean(axis=0) for c in range(10)])
    # Nearest class mean classifies most images correctly: the classes are visibly apart.
    d2 = ((x[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert (d2.argmin(axis=1) == labels).mean() > 0.8
    # ... but not trivially: the images of a class are not copies of each other.
    spread = np.mean([x[labels == c].std(axis=0).mean() for c in range(10)])
    assert spread > 0.05


def test_dataset_and_npz_round_trip(tmp_path) -> None:
    ds = synthetic_strokes(500, seed=3)
    assert ds.images.shape == (500, 784) and ds.image_shape == (28, 28)
    assert ds.label_names == CLASS_NAMES and ds.label_name(0) == "ring"
    images, labels = stroke_images(500, seed=3, dtype=np.uint8)
    path = tmp_path / "strokes.npz"
    np.savez(path, images=images, labels=labels)
    loaded = load_dataset(path)
    assert loaded.images.shape == (500, 784)
    np.testing.assert_array_equal(loaded.labels, ds.labels)
    assert np.abs(loaded.images - ds.images).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("n, side", [(0, 28), (10, 4)])
def test_bad_arguments_are_refused(n: int, side: int) -> None:
    with pytest.raises(ValueError):
        stroke_images(n, side=side)
