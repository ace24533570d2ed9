"""The engines: the Gram engine, the blocked literal engine and the fast mini-batch steps compute
what network.py and the oracle (tests/oracle.py) compute, just below and just above each size
threshold at which fwdback switches to them, for every option they serve and every one they
leave to network.py."""

import functools
import threading
import warnings

import numpy as np
import pytest

import oracle
from fwdback.engines import (
    GRAM_MIN_ROWS,
    FullBatch,
    MiniBatches,
    batches,
    epoch_order,
    full_batch_engine,
    step_scale,
    validation_loss,
)
from fwdback.engines import literal
from fwdback.engines.cache import l2_bytes
from fwdback.engines.gram import MAX_CONDITION, GramEngine
from fwdback.engines.literal import LiteralEngine
from fwdback.network import Parameters, backward, forward, init_parameters, mse_loss, parameter_names, update
from fwdback.optimizers import Optimizer, OptimizerSettings
from fwdback.plan import TrainingPlan
from fwdback.rounding import LossRounding, QuadraticRounding
from fwdback.stepsize import RowStatistics, suggest_lr
from fwdback.synthetic import generate
from fwdback.training import fit_rows, prepare, prepare_streamed, train


def relative(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(a), 1e-300))


@pytest.mark.parametrize("k, h", [(1, 1), (3, 2), (5, 4)])
def test_loss_and_gradients_equal_the_literal_engine(k, h):
    rng = np.random.default_rng(k * 10 + h)
    X, y = rng.normal(size=(300, k)) * 3 + 1, rng.normal(size=300)
    gram = GramEngine(X, y)
    for _ in range(5):
        params = Parameters(rng.normal(size=len(parameter_names(k, h))), k, h)
        fwd = forward(params, X)
        loss, grads = gram.loss_and_gradients(params)
        assert loss == pytest.approx(mse_loss(y, fwd.yhat), rel=1e-12)
        literal = backward(params, X, y, fwd).gradients.vector
        assert np.max(np.abs(grads.vector - literal)) <= 1e-12 * np.max(np.abs(literal))


def full_batches(X, y, initial):
    """The literal and the Gram engine's full-batch objectives on the same rows."""
    literal = LiteralEngine(X, y, initial.n_hidden)
    statistics = RowStatistics(X, y)
    gram = GramEngine(X, y)
    return (FullBatch(literal, literal, "literal", LossRounding.of_rows(X, y), statistics),
            FullBatch(gram, literal, "gram", QuadraticRounding(gram), statistics))


def badly_scaled(rows):
    X, y = generate(rows, seed=3)
    return X * np.array([10.0, 0.1, 1.0]) + np.array([100.0, 0.0, 0.0]), y


@pytest.mark.parametrize("data", [lambda: generate(2000, seed=3), lambda: badly_scaled(2000)], ids=["well scaled", "badly scaled"])
def test_thousands_of_epochs_give_the_same_history_and_weights(data):
    X, y = data()
    initial = init_parameters(np.random.default_rng(0))
    lr = suggest_lr(RowStatistics(X, y), initial, 1.0)
    plan = TrainingPlan(lr=lr, epochs=3000, tol=0, standardize=False)
    literal, gram = (train(objective, initial, plan) for objective in full_batches(X, y, initial))
    assert gram.engine == "gram" and literal.engine == "literal"
    assert relative(literal.losses, gram.losses) < 1e-9
    assert relative(literal.final.vector, gram.final.vector) < 1e-9
    assert literal.losses[-1] < 0.5 * literal.losses[0]  # training moved: the comparison means something


def test_validation_losses_agree():
    X, y = generate(3500, seed=4)
    initial = init_parameters(np.random.default_rng(1))
    plan = TrainingPlan(lr=0.05, epochs=300, tol=0, val_split=0.15)
    rows = prepare(X, y, plan)
    X_val, y_val = rows.validation
    literal_objective, gram_objective = full_batches(rows.X, rows.y, initial)
    literal = train(literal_objective, initial, plan, validation_loss=lambda p: mse_loss(y_val, forward(p, X_val).yhat))
    gram = train(gram_objective, initial, plan, validation_loss=GramEngine(X_val, y_val).loss)
    assert relative(literal.val_losses, gram.val_losses) < 1e-9


def test_auto_takes_the_gram_engine_only_where_it_applies():
    initial = init_parameters(np.random.default_rng(0))
    big = generate(GRAM_MIN_ROWS, seed=1)
    plan = TrainingPlan(lr=0.05, epochs=2)
    assert fit_rows(prepare(*big, plan), initial, plan).result.engine == "gram"
    assert fit_rows(prepare(*generate(GRAM_MIN_ROWS - 1, seed=1), plan), initial, plan).result.engine == "literal"
    batches = plan.replace(batch_size=100)
    assert fit_rows(prepare(*big, batches), initial, batches).result.engine == "mini-batch"
    tanh = init_parameters(np.random.default_rng(0), activation="tanh")
    assert fit_rows(prepare(*big, plan), tanh, plan).result.engine == "literal"


def test_auto_falls_back_where_the_gram_form_loses_precision():
    X, y = generate(GRAM_MIN_ROWS, seed=1)
    X = X + np.array([1e4, 0.0, 0.0])  # cond(G) about 3e16
    assert GramEngine(X, y).condition > MAX_CONDITION
    initial = init_parameters(np.random.default_rng(0))
    plan = TrainingPlan(lr=1e-9, epochs=2)
    assert fit_rows(prepare(X, y, plan), initial, plan).result.engine == "literal"


def test_streamed_rows_train_only_the_linear_network_on_full_batches():
    X, y = generate(100, seed=1)
    rows = prepare_streamed(lambda: [(X, y)], TrainingPlan(lr=0.1))
    with pytest.raises(ValueError, match="full batches"):
        rows.objective(init_parameters(np.random.default_rng(0), activation="relu"), TrainingPlan())
    with pytest.raises(ValueError, match="full batches"):
        rows.objective(init_parameters(np.random.default_rng(0)), TrainingPlan(batch_size=10))


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
def test_the_literal_engine_is_the_lecture_functions_on_one_block(activation):
    X, y = generate(LiteralEngine.LECTURE_ROWS + 500, seed=6)  # the blocked engine's: one block of 2,548 rows
    params = init_parameters(np.random.default_rng(2), 3, 4, activation)
    loss, grads = LiteralEngine(X, y, 4).loss_and_gradients(params)
    fwd = forward(params, X)
    assert loss == pytest.approx(mse_loss(y, fwd.yhat), rel=1e-14)
    lecture = backward(params, X, y, fwd).gradients.vector
    assert np.max(np.abs(grads.vector - lecture)) <= 1e-14 * np.max(np.abs(lecture))


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
def test_the_literal_engine_in_blocks_sums_to_the_full_batch(monkeypatch, activation):
    monkeypatch.setattr(LiteralEngine, "CHUNK_ROWS", 64)  # 2,548 rows: 39 full blocks and a short one
    X, y = generate(LiteralEngine.LECTURE_ROWS + 500, seed=7)
    X = X * np.array([1.0, 5.0, 0.2]) + 1.0
    params = init_parameters(np.random.default_rng(3), 3, 2, activation)
    loss, grads = LiteralEngine(np.asfortranarray(X), y, 2).loss_and_gradients(params)
    fwd = forward(params, X)
    assert loss == pytest.approx(mse_loss(y, fwd.yhat), rel=1e-13)
    literal = backward(params, X, y, fwd).gradients.vector
    assert np.max(np.abs(grads.vector - literal)) <= 1e-13 * np.max(np.abs(literal))


@pytest.fixture
def fast_paths(monkeypatch):
    """The fast paths at any number of rows (lecture-sized data otherwise runs network.py itself)."""
    monkeypatch.setattr(LiteralEngine, "LECTURE_ROWS", 0)


def lecture_gradients(params, X, y):
    """network.py's loss and gradients: the independent computation every engine must equal."""
    fwd = forward(params, X)
    return mse_loss(y, fwd.yhat), backward(params, X, y, fwd).gradients.vector


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("k, h", [(3, 1), (3, 2), (3, 4), (3, 16), (1, 3), (5, 64)])
def test_the_literal_engine_equals_the_lecture_for_every_width(fast_paths, activation, k, h):
    """Both sides of the last product (the residual on dN/dz for H < k + 1, on [x; 1] otherwise),
    the sigmoid's constants moved onto the weights, the identity's factored sums: network.py's numbers."""
    rng = np.random.default_rng(10 * k + h)
    X = rng.normal(size=(3000, k)) * rng.uniform(0.5, 4, size=k) + rng.normal(size=k)
    y = np.sin(X.sum(axis=1)) + rng.normal(size=3000)
    engine = LiteralEngine(X, y, h)
    for _ in range(3):  # work arrays reused from call to call
        params = init_parameters(rng, k, h, activation)
        params.vector[:] += rng.normal(size=params.vector.size)
        loss, grads = engine.loss_and_gradients(params)
        expected_loss, expected = lecture_gradients(params, X, y)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        assert np.max(np.abs(grads.vector - expected)) <= 1e-12 * np.max(np.abs(expected))


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("chunk", [1, 3, 100])
def test_the_literal_engine_equals_the_lecture_across_blocks(fast_paths, monkeypatch, activation, chunk):
    """Blocks of 1 row, short last blocks, a block larger than the data."""
    monkeypatch.setattr(LiteralEngine, "MIN_CHUNK_ROWS", 1)
    monkeypatch.setattr(LiteralEngine, "CHUNK_ROWS", chunk)
    X, y = generate(250, seed=8)
    params = init_parameters(np.random.default_rng(4), 3, 5, activation)
    loss, grads = LiteralEngine(X, y, 5).loss_and_gradients(params)
    expected_loss, expected = lecture_gradients(params, X, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert np.max(np.abs(grads.vector - expected)) <= 1e-12 * np.max(np.abs(expected))


def test_relu_units_that_never_fire_have_zero_gradients(fast_paths):
    X, y = generate(500, seed=9)
    params = init_parameters(np.random.default_rng(5), 3, 3, "relu")
    params.b_hidden[0] = -1e6  # unit 1 is off on every row
    loss, grads = LiteralEngine(X, y, 3).loss_and_gradients(params)
    expected_loss, expected = lecture_gradients(params, X, y)
    assert np.all(grads.W_hidden[0] == 0) and grads.b_hidden[0] == 0
    assert np.max(np.abs(grads.vector - expected)) <= 1e-12 * np.max(np.abs(expected))


def test_saturated_sigmoid_units_give_the_lectures_gradients_without_a_warning(fast_paths):
    """Units whose z reaches +-800 (exp(-z) overflows: N exactly 0; or N exactly 1), one near
    z = -30 (N = exp(z), where network.py's tanh(z/2) form keeps fewer digits) and one near 0:
    the engine's 1 / (1 + exp(-z)) from -z gives network.py's gradients, silently."""
    X, y = generate(500, seed=10)
    params = init_parameters(np.random.default_rng(6), 3, 4, "sigmoid")
    params.b_hidden[:3] = [800.0, -800.0, -30.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grads = LiteralEngine(X, y, 4).loss_and_gradients(params)
    expected_loss, expected = lecture_gradients(params, X, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert np.max(np.abs(grads.vector - expected)) <= 1e-12 * np.max(np.abs(expected))
    assert np.all(grads.W_hidden[:2] == 0) and np.all(grads.b_hidden[:2] == 0)


def test_engines_of_one_shape_share_their_thread_s_work_arrays_and_compute_their_own_rows(fast_paths):
    """Each fit makes an engine; the next of the same shape in a thread takes the work arrays of the
    last (no fresh memory to touch), engines of other rows taking turns with it still compute their
    own rows', and another thread has its own arrays."""
    rng = np.random.default_rng(12)
    datasets = [(rng.normal(size=(3000, 3)), rng.normal(size=3000)) for _ in range(2)]
    params = init_parameters(rng, 3, 4, "tanh")
    first, second = (LiteralEngine(X, y, 4) for X, y in datasets)
    for engine, (X, y) in [(first, datasets[0]), (second, datasets[1]), (first, datasets[0])]:
        loss, grads = engine.loss_and_gradients(params)
        expected_loss, expected = lecture_gradients(params, X, y)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        assert np.max(np.abs(grads.vector - expected)) <= 1e-12 * np.max(np.abs(expected))
    kept = first._arrays()[1]
    assert all(a is b for a, b in zip(second._arrays()[1], kept))
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.extend(LiteralEngine(*datasets[0], 4)._arrays()[1]))
    thread.start()
    thread.join()
    assert len(elsewhere) == len(kept) and not any(a is b for a, b in zip(elsewhere, kept))


def lecture_minibatch_epoch(params, X, y, lr, order, batch_size):
    """MiniBatches' epoch written with network.py's functions, batch by batch."""
    loss_sum, gradient_sum = 0.0, np.zeros_like(params.vector)
    for first in range(0, len(y), batch_size):
        rows = order[first : first + batch_size]
        fwd = forward(params, X[rows])
        grads = backward(params, X[rows], y[rows], fwd).gradients
        loss_sum += mse_loss(y[rows], fwd.yhat) * len(rows)
        gradient_sum += grads.vector * len(rows)
        params = update(params, grads, lr)
    return params.vector, loss_sum / len(y), gradient_sum / len(y)


def gradient_descent(lr: float, params: Parameters) -> Optimizer:
    """The lecture's update rule, w <- w - lr dL/dw, as the training loop hands it to an objective."""
    return OptimizerSettings.of(TrainingPlan()).optimizer(lr, params.vector.size)


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("batch_size, span", [(1, 65536), (7, 65536), (32, 64), (256, 65536), (500, 65536)])
def test_mini_batches_take_the_lectures_steps(fast_paths, monkeypatch, activation, batch_size, span):
    """Three epochs of batches (a short last batch, spans of rows gathered in several pieces,
    one batch larger than the data) step for step as network.py takes them."""
    monkeypatch.setattr(batches, "SPAN_ROWS", span)
    rng = np.random.default_rng(batch_size)
    X, y = rng.normal(size=(300, 3)) * 2 + 0.5, rng.normal(size=300)
    params = expected = init_parameters(rng, 3, 4, activation)
    objective = MiniBatches(X, y, batch_size, seed=3)
    for number in (1, 2, 3):
        params, loss, grads = objective.epoch(params, gradient_descent(0.02, params), number)
        vector, expected_loss, expected_grads = lecture_minibatch_epoch(
            expected, X, y, 0.02, epoch_order(3, number, len(y)), batch_size)
        expected = expected.like(vector)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        assert relative(params.vector, vector) < 1e-12
        assert np.max(np.abs(grads.vector - expected_grads)) <= 1e-12 * np.max(np.abs(expected_grads))
        assert params.activation == activation and grads.n_hidden == 4


def test_mini_batches_train_as_the_lecture_does(fast_paths):
    X, y = generate(2000, seed=11)
    initial = init_parameters(np.random.default_rng(6), 3, 8, "tanh")
    plan = TrainingPlan(lr=0.01, epochs=20, tol=0, batch_size=64, standardize=False)
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    objective = MiniBatches(X, y, 64, seed=0)
    params, losses = initial, []
    for number in range(1, 21):
        vector, loss, _ = lecture_minibatch_epoch(params, X, y, 0.01, epoch_order(0, number, len(y)), 64)
        params = params.like(vector)
        losses.append(loss)
    assert result.engine == "mini-batch" and objective.name == "mini-batch"
    assert relative(result.losses, losses) < 1e-12
    assert relative(result.final.vector, params.vector) < 1e-12


def test_one_blas_thread_gives_the_thread_count_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from fwdback.engines.threads import blas_functions, one_blas_thread

    if blas_functions() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        with one_blas_thread():
            inside = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
        after = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
    assert 1 in inside and 2 in after


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
def test_lecture_sized_data_runs_the_lecture_bit_for_bit(activation):
    """Below LECTURE_ROWS rows the full batch and the mini-batches are network.py's own calls:
    what `fwdback explain --epoch K` works by hand is exactly training's epoch K."""
    X, y = generate(LiteralEngine.LECTURE_ROWS - 1, seed=12)
    params = init_parameters(np.random.default_rng(7), 3, 3, activation)
    loss, grads = LiteralEngine(X, y, 3).loss_and_gradients(params)
    expected_loss, expected = lecture_gradients(params, X, y)
    assert loss == expected_loss and np.array_equal(grads.vector, expected)
    after, _, _ = MiniBatches(X, y, 100, seed=2).epoch(params, gradient_descent(0.01, params), 1)
    vector, _, _ = lecture_minibatch_epoch(params, X, y, 0.01, epoch_order(2, 1, len(y)), 100)
    assert np.array_equal(after.vector, vector)


# --- every fast path just below and just above each of its size thresholds, against the oracle ---

CONVENTIONS = ("mse", "half-mse", "sse", "half-sse")


def oracle_shape(params) -> oracle.Shape:
    a = params.architecture
    return oracle.Shape(a.n_inputs, a.n_hidden, a.n_outputs, a.activation, a.output_activation, a.bias)


def oracle_values(params, X, y, convention="mse"):
    """The oracle's loss and gradients (in the vector's order) at `params`, and how far rounding
    may move a computed gradient: each is a sum over the rows, within (n + 10) U of the sum of
    its terms' magnitudes for any order of summation; twice that for two computations, twice
    again for the residuals' own rounding."""
    shape, p = oracle_shape(params), params.as_dict()
    g = oracle.gradients(p, X, y, shape, convention)
    size = oracle.gradients(p, X, y, shape, convention, absolute=True)
    tolerance = 4 * (len(X) + 10) * oracle.U * np.array([size[name] for name in params.names])
    return oracle.loss(p, X, y, shape, convention), np.array([g[name] for name in params.names]), tolerance


def assert_equals_oracle(loss, grads, params, X, y, convention="mse"):
    expected_loss, expected, tolerance = oracle_values(params, X, y, convention)
    assert loss == pytest.approx(expected_loss, rel=4 * (len(X) + 10) * oracle.U)  # a sum of squares: no cancellation
    assert np.all(np.abs(grads.vector - expected) <= tolerance)


@functools.cache
def block_rows(k: int, h: int) -> int:
    """The blocked literal engine's rows a block for a k-input, h-unit network (on data larger than a block)."""
    n = 4 * LiteralEngine.CHUNK_ROWS
    return LiteralEngine(np.zeros((n, k)), np.zeros(n), h).chunk_rows()


def rows_of(n: int, k: int, seed: int):
    """n rows of k features of unequal scales, and a target that no network here fits exactly."""
    rng = np.random.default_rng([n, k, seed])
    X = rng.normal(size=(n, k)) * rng.uniform(0.5, 3.0, size=k) + rng.normal(size=k)
    return X, np.sin(X.sum(axis=1)) + 0.3 * rng.normal(size=n)


# Units enough that a block of MIN_CHUNK_ROWS rows passes CACHE_L2S L2 caches (more than 8 bytes a
# row a unit), whatever L2 this processor reports: 129 for 1 MiB.
WIDE = LiteralEngine.CACHE_L2S * l2_bytes() // (8 * LiteralEngine.MIN_CHUNK_ROWS) + 1

LITERAL_SIZES = {  # rows -> (k, H): LECTURE_ROWS (network.py below, the blocked engine from), one block, two
    "lecture rows - 1": (lambda: LiteralEngine.LECTURE_ROWS - 1, 3, 2),
    "lecture rows": (lambda: LiteralEngine.LECTURE_ROWS, 3, 2),
    "one block": (lambda: block_rows(3, 2), 3, 2),
    "one block + 1": (lambda: block_rows(3, 2) + 1, 3, 2),
    "MIN_CHUNK_ROWS block + 1": (lambda: block_rows(3, WIDE) + 1, 3, WIDE),
}


# Every activation with the MSE, every other loss convention with one activation each.
ACTIVATIONS_AND_CONVENTIONS = [("identity", "mse"), ("tanh", "mse"), ("relu", "mse"), ("sigmoid", "mse"),
                               ("tanh", "half-mse"), ("relu", "sse"), ("sigmoid", "half-sse")]


@pytest.mark.parametrize("activation, convention", ACTIVATIONS_AND_CONVENTIONS)
@pytest.mark.parametrize("size", list(LITERAL_SIZES))
def test_the_literal_engine_at_each_size_threshold_equals_the_oracle(size, activation, convention):
    """The real thresholds, nothing patched: lecture-sized data (network.py), the blocked engine
    from LECTURE_ROWS on, in one block and in two (of half the rows each), and the smallest block
    the cache allows (MIN_CHUNK_ROWS) of a wide network; every activation and loss convention."""
    rows, k, h = LITERAL_SIZES[size]
    n = rows()
    if size == "MIN_CHUNK_ROWS block + 1":
        assert block_rows(3, WIDE) == LiteralEngine.MIN_CHUNK_ROWS
    X, y = rows_of(n, k, seed=1)
    params = init_parameters(np.random.default_rng(n), k, h, activation)
    loss, grads = full_batch_engine(X, y, params, convention).loss_and_gradients(params)
    assert_equals_oracle(loss, grads, params, X, y, convention)


@pytest.mark.parametrize("n, rows, sizes", [(10_000, 8_738, [5_000, 5_000]), (10, 3, [3, 3, 3, 1]),
                                             (7, 7, [7]), (7, 100, [7]), (9, 2, [2, 2, 2, 2, 1])])
def test_the_rows_go_in_as_few_blocks_as_fit_of_equal_size(n, rows, sizes):
    """ceil(n / rows) blocks of ceil(n / blocks) rows, the last shorter by what is left: no block
    of a few rows beside one that fills the cache."""
    engine = LiteralEngine(np.zeros((n, 3)), np.zeros(n), 2)
    blocks = list(engine._blocks(rows))
    assert [m for _, m in blocks] == sizes
    assert [first for first, _ in blocks] == [sum(sizes[:i]) for i in range(len(sizes))]


@pytest.mark.parametrize("l2", [256 << 10, 1 << 20, 2 << 20])
def test_a_blocks_rows_are_sized_by_the_l2_cache_the_system_reports(monkeypatch, l2):
    """A block of a 3-16-1 network keeps 3 (k + 1) + 2 + H = 30 numbers a row, 240 bytes: as many
    rows as fit in CACHE_L2S of the reported L2 caches (at least MIN_CHUNK_ROWS)."""
    monkeypatch.setattr(literal, "l2_bytes", lambda: l2)
    n = 4 * LiteralEngine.CHUNK_ROWS
    rows = LiteralEngine(np.zeros((n, 3)), np.zeros(n), 16).chunk_rows()
    assert rows == max(LiteralEngine.MIN_CHUNK_ROWS, LiteralEngine.CACHE_L2S * l2 // 240)


def test_a_network_too_wide_for_min_chunk_rows_takes_smaller_blocks_and_equals_the_oracle():
    """Over 1,024 units a block's work arrays would pass WORK_BYTES at MIN_CHUNK_ROWS rows: the
    blocks shrink to fit (2,046 rows for 1,025 units), two of them here, of 1,024 and 1,023 rows."""
    rows = block_rows(3, 1025)
    assert rows == LiteralEngine.WORK_BYTES // (32 * 1025) < LiteralEngine.MIN_CHUNK_ROWS
    X, y = rows_of(rows + 1, 3, seed=6)
    params = init_parameters(np.random.default_rng(12), 3, 1025, "tanh")
    loss, grads = full_batch_engine(X, y, params, "half-mse").loss_and_gradients(params)
    assert_equals_oracle(loss, grads, params, X, y, "half-mse")


@pytest.mark.parametrize("architecture", [dict(n_outputs=2), dict(output_activation="sigmoid"), dict(bias=False)],
                         ids=["two outputs", "sigmoid output", "no biases"])
def test_networks_the_literal_engine_refuses_run_network_py_above_its_thresholds(architecture):
    X, y = rows_of(block_rows(3, 2) + 1, 3, seed=2)
    y = np.column_stack([y, np.cos(y)]) if architecture.get("n_outputs") == 2 else y
    params = init_parameters(np.random.default_rng(3), 3, 2, "tanh", **architecture)
    engine = full_batch_engine(X, y, params, "half-mse")
    assert not isinstance(engine, LiteralEngine)
    assert_equals_oracle(*engine.loss_and_gradients(params), params, X, y, "half-mse")


def oracle_full_batch(params, X, y, plan, epochs):
    """The losses and final weights of `epochs` full-batch epochs, by the oracle."""
    shape, p = oracle_shape(params), params.as_dict()
    rule, losses = oracle.Update(plan.optimizer, plan.lr, mu=plan.momentum), []
    for _ in range(epochs):
        losses.append(oracle.loss(p, X, y, shape, plan.loss))
        p = rule.step(p, oracle.gradients(p, X, y, shape, plan.loss))
    return np.array(losses), np.array([p[name] for name in params.names])


# The Gram engine agrees with the literal engine to 1e-9 relative where it is used (gram.MAX_CONDITION).
GRAM_AGREEMENT = 1e-9


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("n", [GRAM_MIN_ROWS - 1, GRAM_MIN_ROWS])
def test_full_batches_either_side_of_gram_min_rows_train_as_the_oracle(n, convention, optimizer):
    X, y = generate(n, seed=5)
    initial = init_parameters(np.random.default_rng(4))
    plan = TrainingPlan(lr=0.1 if optimizer != "adam" else 0.01, epochs=3, tol=0, standardize=False, loss=convention,
                        optimizer=optimizer, momentum=0.5)
    if optimizer != "adam":  # each convention's gradients are n / d(n) times the MSE's; adam's steps do not scale
        plan = plan.replace(lr=plan.lr * step_scale(plan, n))
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    assert result.engine == ("gram" if n >= GRAM_MIN_ROWS else "literal")
    losses, final = oracle_full_batch(initial, X, y, plan, 3)
    assert relative(result.losses, losses) < GRAM_AGREEMENT
    assert relative(result.final.vector, final) < GRAM_AGREEMENT


@pytest.mark.parametrize("setting", [dict(activation="tanh"), dict(batch_size=5000), dict(n_outputs=2)],
                         ids=["tanh", "mini-batches", "two outputs"])
def test_what_the_gram_engine_refuses_above_gram_min_rows_trains_as_the_oracle(setting):
    X, y = generate(GRAM_MIN_ROWS, seed=6)
    y = np.column_stack([y, -y]) if "n_outputs" in setting else y
    architecture = {key: value for key, value in setting.items() if key != "batch_size"}
    initial = init_parameters(np.random.default_rng(5), **architecture)
    plan = TrainingPlan(lr=0.05, epochs=2, tol=0, standardize=False, loss="half-sse", batch_size=setting.get("batch_size"))
    plan = plan.replace(lr=plan.lr * step_scale(plan, GRAM_MIN_ROWS))
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    assert result.engine != "gram"
    shape = oracle_shape(initial)
    if plan.batch_size is None:
        losses, final = oracle_full_batch(initial, X, y, plan, 2)
    else:
        p, losses = initial.as_dict(), []
        for number in (1, 2):
            order = epoch_order(plan.seed, number, len(y))
            batches_of = [order[first : first + plan.batch_size] for first in range(0, len(y), plan.batch_size)]
            p, epoch_loss, _ = oracle.minibatch_epoch(p, X, y, batches_of, oracle.Update("gd", plan.lr), shape, plan.loss)
            losses.append(epoch_loss)
        final = np.array([p[name] for name in initial.names])
    assert relative(result.losses, losses) < 1e-12
    assert relative(result.final.vector, final) < 1e-12


@pytest.mark.parametrize("batch_size", [None, 100])
@pytest.mark.parametrize("activation", ["identity", "tanh"])
@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("n", [GRAM_MIN_ROWS - 1, GRAM_MIN_ROWS])
def test_the_validation_loss_either_side_of_gram_min_rows_is_the_oracle_s(n, convention, activation, batch_size):
    """From GRAM_MIN_ROWS validation rows on, the linear network's full-batch validation loss is
    the Gram form's, in the plan's loss convention."""
    X, y = generate(n, seed=7)
    initial = init_parameters(np.random.default_rng(6), activation=activation)
    params = initial.like(initial.vector + np.random.default_rng(7).normal(size=initial.vector.size))
    plan = TrainingPlan(lr=0.1, loss=convention, batch_size=batch_size)
    expected = oracle.loss(params.as_dict(), X, y, oracle_shape(params), convention)
    assert validation_loss(X, y, initial, plan)(params) == pytest.approx(expected, rel=GRAM_AGREEMENT)


MINI_BATCH_OPTIONS = {  # the fast steps (batches.BatchSteps) serve gd on the lecture's kind of network and the MSE
    "identity": dict(activation="identity"),
    "tanh": dict(activation="tanh"),
    "relu": dict(activation="relu"),
    "sigmoid": dict(activation="sigmoid"),
    "half-mse": dict(loss="half-mse"),
    "sse": dict(loss="sse"),
    "half-sse": dict(loss="half-sse", activation="sigmoid"),
    "momentum": dict(optimizer="momentum"),
    "nesterov": dict(optimizer="nesterov"),
    "adam": dict(optimizer="adam"),
    "frozen w1": dict(freeze=("w1",)),
    "two outputs": dict(n_outputs=2),
    "sigmoid output": dict(output_activation="sigmoid"),
    "no biases": dict(bias=False),
}
ARCHITECTURE_OPTIONS = ("activation", "n_outputs", "output_activation", "bias")


@pytest.mark.parametrize("option", list(MINI_BATCH_OPTIONS))
@pytest.mark.parametrize("n", [LiteralEngine.LECTURE_ROWS - 1, LiteralEngine.LECTURE_ROWS])
def test_mini_batches_either_side_of_lecture_rows_step_as_the_oracle(n, option):
    """Two epochs of 9 batches (the last short), each option the fast steps serve and each they
    must leave to network.py. Each batch's gradients agree to (rows + 10) U of their terms'
    magnitudes (about 1e-13 relative), and 18 steps of a rate well inside the stable range
    carry that on without growing it: 1e-11."""
    settings = MINI_BATCH_OPTIONS[option]
    architecture = {key: value for key, value in settings.items() if key in ARCHITECTURE_OPTIONS}
    X, y = rows_of(n, 3, seed=3)
    y = np.column_stack([y, np.cos(y)]) if architecture.get("n_outputs") == 2 else y
    initial = init_parameters(np.random.default_rng(8), 3, 4, **{"activation": "tanh", **architecture})
    plan = TrainingPlan(lr=0.005, epochs=2, tol=0, batch_size=240, standardize=False,
                        **{key: value for key, value in settings.items() if key not in ARCHITECTURE_OPTIONS})
    plan = plan.replace(lr=plan.lr * step_scale(plan, n) if plan.optimizer != "adam" else 1e-3)
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    shape, p, losses = oracle_shape(initial), initial.as_dict(), []
    rule = oracle.Update(plan.optimizer, plan.lr, mu=plan.momentum, frozen=frozenset(plan.freeze))
    for number in (1, 2):
        order = epoch_order(plan.seed, number, n)
        p, loss, _ = oracle.minibatch_epoch(p, X, y, [order[i : i + 240] for i in range(0, n, 240)], rule, shape, plan.loss)
        losses.append(loss)
    assert result.engine == "mini-batch"
    assert relative(result.losses, losses) < 1e-11
    assert relative(result.final.vector, [p[name] for name in initial.names]) < 1e-11


@pytest.mark.parametrize("extra", [0, 101], ids=["one span", "a span and more"])
def test_mini_batch_spans_hold_whole_batches(extra):
    """The fast steps gather SPAN_ROWS // batch_size whole batches at a time (65,500 rows for
    batches of 100): with more rows than that, every batch is still 100 rows of the epoch's order."""
    span = batches.SPAN_ROWS // 100 * 100
    X, y = rows_of(span + extra, 1, seed=4)
    initial = init_parameters(np.random.default_rng(9), 1, 1)
    plan = TrainingPlan(lr=0.01, epochs=1, tol=0, batch_size=100, standardize=False)
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    order = epoch_order(plan.seed, 1, len(y))
    p, loss, _ = oracle.minibatch_epoch(initial.as_dict(), X, y, [order[i : i + 100] for i in range(0, len(y), 100)],
                                        oracle.Update("gd", 0.01), oracle_shape(initial))
    assert relative(result.losses, [loss]) < 1e-11
    assert relative(result.final.vector, [p[name] for name in initial.names]) < 1e-11


def test_the_streamed_gram_pass_takes_each_column_s_range_over_every_chunk():
    """A column constant within each chunk but not across them is not constant; one constant
    throughout is (the yardstick names it): np.ptp over all the rows decides."""
    rng = np.random.default_rng(10)
    X = np.column_stack([np.repeat([1.0, 2.0, 3.0], 50), np.full(150, 4.0), rng.normal(size=150)])
    X[:100, 2] = rng.normal(size=100)
    y = X @ [1.0, 0.0, 2.0] + rng.normal(size=150)
    expected = [j for j in range(3) if np.ptp(X[:, j]) == 0]
    assert expected == [1]
    gram = GramEngine.from_chunks(lambda: ((X[i : i + 50], y[i : i + 50]) for i in range(0, 150, 50)))
    assert gram.constant_columns == expected
    rows = prepare_streamed(lambda: ((X[i : i + 50], y[i : i + 50]) for i in range(0, 150, 50)), TrainingPlan(lr=0.1))
    assert rows.least_squares().constant_columns == expected


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_streamed_rows_train_in_every_loss_convention_as_the_oracle(convention):
    """Rows streamed in chunks train by the Gram engine's statistics, in the plan's loss convention."""
    X, y = generate(3000, seed=11)
    initial = init_parameters(np.random.default_rng(10))
    plan = TrainingPlan(lr=0.1, epochs=3, tol=0, standardize=False, loss=convention)
    plan = plan.replace(lr=plan.lr * step_scale(plan, len(y)))
    rows = prepare_streamed(lambda: ((X[i : i + 1000], y[i : i + 1000]) for i in range(0, 3000, 1000)), plan)
    result = fit_rows(rows, initial, plan).result
    losses, final = oracle_full_batch(initial, X, y, plan, 3)
    assert result.engine == "gram"
    assert relative(result.losses, losses) < GRAM_AGREEMENT
    assert relative(result.final.vector, final) < GRAM_AGREEMENT


def test_on_step_sees_every_step_above_lecture_rows():
    """With on_step (explain's view of a mini-batch epoch), every batch runs network.py's step,
    whatever the rows: on_step gets each step's starting weights and gradients, the oracle's."""
    n, batch_size = LiteralEngine.LECTURE_ROWS, 500  # four batches of 500 and one of 48
    X, y = rows_of(n, 3, seed=5)
    initial = init_parameters(np.random.default_rng(11), 3, 2, "tanh")
    seen = []
    objective = MiniBatches(X, y, batch_size, seed=1,
                            on_step=lambda number, step, params, grads: seen.append((step, params.vector, grads.vector)))
    objective.epoch(initial, gradient_descent(0.01, initial), 1)
    order = epoch_order(1, 1, n)
    p, rule, shape = initial.as_dict(), oracle.Update("gd", 0.01), oracle_shape(initial)
    assert [step for step, _, _ in seen] == [1, 2, 3, 4, 5]
    for (_, params, grads), first in zip(seen, range(0, n, batch_size)):
        rows = order[first : first + batch_size]
        g = oracle.gradients(p, X[rows], y[rows], shape)
        assert relative(params, [p[name] for name in initial.names]) < 1e-12
        assert relative(grads, [g[name] for name in initial.names]) < 1e-12
        p = rule.step(p, g)
