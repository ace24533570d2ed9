"""The Playground's four classification sets against their geometry, checked independently of
how they are drawn: the circle's labels by radius, xor's by quadrant, the spiral's points on
their arms, the Gaussians' moments; and `fwdback generate --shape` writing them."""

import math

import numpy as np
import pytest

from fwdback.playground import SHAPE_NAMES, generate_shape

# Rounding of r sin t, r cos t for r <= 5: a few units in the last place of 5.
ARM_ROUNDING = 8 * 5 * np.finfo(float).eps * 2 * math.pi * 1.75


@pytest.mark.parametrize("shape", SHAPE_NAMES)
@pytest.mark.parametrize("rows", [1, 7, 200])
def test_each_shape_has_two_classes_in_halves_and_the_seed_decides_it(shape, rows):
    X, y = generate_shape(shape, rows, seed=5, noise=0.1)
    assert X.shape == (rows, 2) and y.shape == (rows,)
    assert set(y.tolist()) <= {0.0, 1.0}
    assert np.isfinite(X).all()
    if shape in ("gauss", "spiral"):  # the label is the half a point was drawn in
        assert int(y.sum()) == rows - rows // 2
    again, other = generate_shape(shape, rows, seed=5, noise=0.1), generate_shape(shape, rows, seed=6, noise=0.1)
    np.testing.assert_array_equal(again[0], X)
    np.testing.assert_array_equal(again[1], y)
    assert not np.array_equal(other[0], X)


def test_circle_without_noise_is_labelled_by_radius_with_a_gap():
    X, y = generate_shape("circle", 1001, seed=1, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_array_equal(y, radius < 2.5)
    assert int(y.sum()) == 501
    assert radius[y == 1].max() < 2.5 and 3.5 <= radius[y == 0].min() and radius.max() <= 5


def test_circle_noise_flips_labels_only_within_its_reach_of_the_boundary():
    noise = 0.1
    X, y = generate_shape("circle", 2000, seed=2, noise=noise)
    radius = np.hypot(X[:, 0], X[:, 1])
    reach = 5 * noise * math.sqrt(2)  # each coordinate moved by at most 5 noise
    far = np.abs(radius - 2.5) > reach
    np.testing.assert_array_equal(y[far], radius[far] < 2.5)
    assert (y[~far] != (radius[~far] < 2.5)).any()


def test_xor_without_noise_is_labelled_by_quadrant_and_kept_off_the_axes():
    X, y = generate_shape("xor", 1000, seed=3, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] > 0) == (X[:, 1] > 0))
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3
    assert 0 < y.sum() < 1000


def test_xor_noise_flips_labels_only_near_the_axes():
    noise = 0.1
    X, y = generate_shape("xor", 2000, seed=4, noise=noise)
    far = (np.abs(X) > 5 * noise).all(axis=1)  # no move of at most 5 noise crosses an axis
    np.testing.assert_array_equal(y[far], (X[far, 0] > 0) == (X[far, 1] > 0))
    assert (y[~far] != ((X[~far, 0] > 0) == (X[~far, 1] > 0))).any()


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.5])
def test_gauss_clouds_have_the_playgrounds_centres_and_variance(noise):
    n = 20000
    X, y = generate_shape("gauss", 2 * n, seed=5, noise=noise)
    variance = 0.5 + noise * 3.5 / 0.5  # noise 0 -> 0.5 and 0.5 -> 4, linearly
    for label, centre in ((1.0, 2.0), (0.0, -2.0)):
        cloud = X[y == label]
        assert len(cloud) == n
        # Five standard errors: of a mean sqrt(variance / n), of a variance variance sqrt(2 / (n - 1)).
        np.testing.assert_allclose(cloud.mean(axis=0), centre, rtol=0, atol=5 * math.sqrt(variance / n))
        np.testing.assert_allclose(cloud.var(axis=0, ddof=1), variance, rtol=5 * math.sqrt(2 / (n - 1)))


def _arm(m, turn):
    """The noise-free arm of m points, shape (m, 2), written out from the Playground's formula."""
    points = []
    for i in range(m):
        r, t = i / m * 5, 1.75 * i / m * 2 * math.pi + turn
        points.append((r * math.sin(t), r * math.cos(t)))
    return np.array(points)


def test_spiral_without_noise_lies_on_its_two_arms():
    X, y = generate_shape("spiral", 41, seed=6, noise=0.0)
    for label, turn, m in ((1.0, 0.0, 21), (0.0, math.pi, 20)):
        points, arm = X[y == label], _arm(m, turn)
        order = np.lexsort(points.T), np.lexsort(arm.T)
        np.testing.assert_allclose(points[order[0]], arm[order[1]], rtol=0, atol=ARM_ROUNDING)


def test_spiral_noise_moves_each_point_at_most_noise_in_each_coordinate():
    noise = 0.1
    X, y = generate_shape("spiral", 300, seed=7, noise=noise)
    for label, turn in ((1.0, 0.0), (0.0, math.pi)):
        points, arm = X[y == label], _arm(150, turn)
        nearest = np.abs(points[:, None, :] - arm[None, :, :]).max(axis=2).min(axis=1)
        assert nearest.max() <= noise + ARM_ROUNDING
        assert nearest.max() > noise / 2


def test_generate_shape_writes_x1_x2_and_the_class(run):
    result = run(["generate", "--shape", "xor", "--rows", "9", "--seed", "2", "--noise", "0"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "x1,x2,y" and len(lines) == 10
    cells = [line.split(",") for line in lines[1:]]
    assert {label for *_, label in cells} <= {"0", "1"}
    X, y = generate_shape("xor", 9, seed=2, noise=0.0)
    np.testing.assert_array_equal([[float(a), float(b)] for a, b, _ in cells], X)
    np.testing.assert_array_equal([int(label) for *_, label in cells], y)


def test_generate_shape_is_reproducible_from_the_command_line(run):
    first = run(["generate", "--shape", "spiral", "--rows", "30", "--seed", "4"]).stdout
    assert first == run(["generate", "--shape", "spiral", "--rows", "30", "--seed", "4"]).stdout
    assert first != run(["generate", "--shape", "spiral", "--rows", "30", "--seed", "5"]).stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--shape", "square"], "'square' is not one of 'circle', 'xor', 'gauss', 'spiral'"),
        (["--shape", "circle", "--coef", "1,2,3,4"], "--coef is the linear data's"),
        (["--shape", "spiral", "--noise", "1e308"], "would make x1, x2 overflow float64"),
        (["--shape", "gauss", "--noise", "1.7e308"], "would make x1, x2 overflow float64"),
        (["--shape", "circle", "--noise", "-0.1"], "--noise"),
        (["--shape", "circle", "--noise", "nan"], "nan is not a finite number"),
    ],
)
def test_generate_shape_refuses_bad_values_as_usage_errors(run, no_crash, args, words):
    result = run(["generate", *args])
    no_crash(result)
    assert result.exit_code == 2 and result.stdout == ""
    assert words in result.stderr and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_rows_beyond_memory_are_refused_before_a_line_is_written(tmp_path):
    from hostile import SMALL_MEMORY_KIB, shell

    outcome = shell("fwdback generate --shape circle --rows 1000000000", tmp_path, memory_kib=SMALL_MEMORY_KIB)
    assert outcome.code == 1 and outcome.stdout == ""
    assert outcome.stderr == ("Error: out of memory drawing 1,000,000,000 rows of --shape circle, which are held in memory "
                           "to be shuffled; give fewer --rows\n")
