"""The Python API: the network as an object, and a regressor and a classifier in scikit-learn's style.

NumPy only: importing this module, fitting and predicting import neither click, rich nor
pandas, nor scikit-learn. `FwdbackRegressor` and `FwdbackClassifier` (one base, _Estimator,
the classifier's targets being class labels) keep scikit-learn's estimator conventions
(parameters stored verbatim by __init__, fit/predict/score, get_params/set_params, fitted
attributes ending in "_") by duck typing, not by inheriting from sklearn.base.BaseEstimator:
scikit-learn is optional, and importing sklearn.base takes about a second and brings pandas
and scipy with it. What scikit-learn asks for beyond that (its estimator tags, its
NotFittedError) is reached for only when scikit-learn is already loaded.

Training is the CLI's, step for step: `FwdbackRegressor(random_state=S, ...).fit(X, y)` and
`fwdback train data.csv --seed S ...` on the same rows give bit-identical weights, as do
`FwdbackClassifier(loss="bce", ...)` and `fwdback train --loss bce ...` on class labels.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
import warnings

import numpy as np

from . import network, run
from .run import check_used, stored_settings
from .activations import NETWORK_OUTPUT_ACTIVATIONS
from .classes import Classes, class_targets, label_problem, probabilities
from .errors import UnknownArgument, quiet_floats
from .losses import LOSSES, CLASSIFICATION_LOSS_NAMES, REGRESSION_LOSS_NAMES
from .network import Architecture, Gradients, Parameters, init_parameters
from .notation import count
from .modelfile import Model, TrainingRecord
from .plan import TrainingPlan
from .settings import BY_NAME, PLAN_SETTINGS, SETTINGS, Flag, Integer, Names, Real, Setting
from .training import prepare


class NotFittedError(ValueError, AttributeError):
    """predict or score was called before fit (also scikit-learn's NotFittedError, once scikit-learn is loaded)."""


class DataConversionWarning(UserWarning):
    """y came as a column, shape (n, 1), and was flattened."""


class Network:
    """The network as one object: named parameters, forward, backward and a gradient step.

        net = Network.random(seed=0)       # the 3-2-1 network, initialised as by `fwdback train --seed 0`
        fwd = net.forward(X)               # X : shape (n, 3); fwd.Z, fwd.N : shape (2, n), the hidden
                                           # units before and after the activation; fwd.yhat : shape (n,)
        yhat = net.predict(X)              # net.forward(X).yhat
        grads = net.backward(X, y)         # dL/dw1 .. dL/db3 at the current weights; grads.as_dict()
        net.step(grads, lr=0.05)           # w <- w - lr * dL/dw, for every parameter
        net.loss_of(X, y)                  # L at the current weights
        net["w1"], net.weights             # the parameters by the lecture's names

    The names are the command line's and FwdbackRegressor's: `hidden` (--hidden), `seed` (--seed,
    the estimator's random_state), `loss` the loss convention (--loss). `params` is the engine's
    network.Parameters; the methods are network.py's functions. An argument that is a setting is
    checked by its declaration (settings.SETTINGS), X's and y's shapes by the network's: each
    refusal is a ValueError naming the argument and what it must be.
    """

    def __init__(self, params: Parameters):
        self.params = params

    @classmethod
    def random(cls, n_inputs: int = 3, hidden: int = 2, activation: str = "identity", seed: int = 0,
               **shape) -> Network:
        """Initial weights from numpy.random.default_rng(seed), exactly as the CLI draws them.
        `shape`: n_outputs, output_activation, bias (_architecture)."""
        _check_arguments("Network.random", {"seed": seed})
        architecture = _architecture("Network.random", n_inputs, hidden, activation, shape, ("seed",))
        return cls(init_parameters(np.random.default_rng(seed), **dataclasses.asdict(architecture)))

    @classmethod
    def from_weights(
        cls, weights: dict[str, float], n_inputs: int = 3, hidden: int = 2, activation: str = "identity", **shape
    ) -> Network:
        """From {"w1": ..., "b3": ...}: every name of the network, and no other."""
        architecture = _architecture("Network.from_weights", n_inputs, hidden, activation, shape, ("weights",))
        names = architecture.names
        missing, unknown = set(names) - set(weights), set(weights) - set(names)
        if missing or unknown:
            raise ValueError(
                f"a {n_inputs}-{hidden}-{architecture.n_outputs} network has the parameters {', '.join(names)}; "
                f"missing: {', '.join(sorted(missing)) or 'none'}, unknown: {', '.join(sorted(unknown)) or 'none'}"
            )
        return cls(Parameters.from_dict(weights, n_inputs, hidden, activation, **shape))

    @property
    def weights(self) -> dict[str, float]:
        """Name -> value, in the lecture's order w1.., b1.."""
        return self.params.as_dict()

    def __getitem__(self, name: str) -> float:
        return self.weights[name]

    @quiet_floats
    def forward(self, X) -> network.ForwardPass:
        """The forward pass of X, shape (n, k), as fwdback.forward gives it: Z and N, shape (H, n),
        what goes into and comes out of each hidden unit (N[0] is N1); A and Yhat, shape (m, n),
        the same of the outputs; yhat, shape (n,) (or (n, m) for m outputs)."""
        return network.forward(self.params, self._inputs(X))

    def predict(self, X) -> np.ndarray:
        """yhat, shape (n,) (or (n, m) for m outputs), for X, shape (n, k): forward(X).yhat."""
        return self.forward(X).yhat

    @quiet_floats
    def loss_of(self, X, y, loss: str = "mse") -> float:
        """L at the current weights: (1/n) * sum (y_i - yhat_i)^2, or the convention `loss` names
        (losses.LOSSES, FwdbackRegressor's `loss`).  X : shape (n, k), y : shape (n,) (or (n, m))."""
        _check_arguments("Network.loss_of", {"loss": loss})
        X = self._inputs(X)
        return network.loss(self._targets(y, len(X)), network.forward(self.params, X), loss)

    @quiet_floats
    def backward(self, X, y, loss: str = "mse") -> Gradients:
        """dL/dparameter for every parameter at the current weights, L by the convention `loss`:
        a forward pass, then the chain rule.  X : shape (n, k), y : shape (n,) (or (n, m))."""
        _check_arguments("Network.backward", {"loss": loss})
        X = self._inputs(X)
        y = self._targets(y, len(X))
        return network.backward(self.params, X, y, network.forward(self.params, X), loss).gradients

    @quiet_floats
    def step(self, grads: Gradients, lr: float) -> None:
        """One gradient-descent update of every parameter: w(t+1) = w(t) - lr * dL/dw(t)."""
        self.params = network.update(self.params, grads, lr)

    @quiet_floats
    def explain(self, X, y, rows: int = 5, features=None, target=None, **settings):
        """One epoch from the current weights worked by hand on X, shape (n, k), and y, shape (n,)
        (or (n, m)), as `fwdback explain DATA --init WEIGHTS` works it: a render.notebook.Explanation,
        which a notebook shows with its equations (`.markdown()`, `.html()` and `.document()` give
        it as text or data). The weights are not changed.

        `settings` are the run's settings `fwdback explain` takes (EXPLAINED), by
        FwdbackRegressor's names and with its defaults, checked as it checks them: lr (None
        chooses the step from the data and these weights, stepsize.choose_lr), loss, optimizer,
        momentum, beta1, beta2, epsilon, freeze, batch_size, shuffle, val_split, patience,
        min_delta, standardize (None: the rows as they are, as explain shows them),
        random_state (the seed of the shuffles and the split). `rows`: the rows shown;
        `features` names X's columns (x1.. by default), `target` y's (y, or y1..ym).
        """
        from .explain import training_row_numbers, work_epoch
        from .render.notebook import Explanation
        from .reports.explain import explanation
        from .training import resolve

        call = "Network.explain"
        taken = {setting.estimator_name: setting for setting in EXPLAINED}
        unknown = next((name for name in settings if name not in taken), None)
        if unknown is not None:
            raise _unknown(call, unknown, ("X", "y", "rows", "features", "target", *taken))
        if not Integer(1).admits(rows):
            raise ValueError(f"{call}(rows={rows!r}): rows must be {Integer(1).need()}")
        _check_arguments(call, settings)
        plan = TrainingPlan(**{setting.name: _typed(setting, settings.get(setting.estimator_name, setting.default))
                               for setting in EXPLAINED})
        check_used(vars(plan))
        run.check_frozen(plan.freeze, self.params)
        if plan.standardize is None:
            plan = plan.replace(standardize=False)
        X = self._inputs(X)
        y = self._targets(y, len(X))
        m = self.params.n_outputs
        features = tuple(f"x{j}" for j in range(1, X.shape[1] + 1)) if features is None else tuple(features)
        target = ("y" if m == 1 else tuple(f"y{j}" for j in range(1, m + 1))) if target is None else target
        if len(features) != X.shape[1] or (1 if isinstance(target, str) else len(target)) != m:
            raise ValueError(f"features={features!r}, target={target!r}: give a name for each of X's {X.shape[1]} "
                             f"columns and {'a name' if m == 1 else f'a tuple of {m} names'} for y's")
        rows_seen = prepare(X, y, plan)
        worked = work_epoch(rows_seen, self.params, resolve(plan, rows_seen, self.params),
                            row_numbers=training_row_numbers(len(y), plan))
        return Explanation(worked, explanation(worked, features, rows, target), features, target)

    def _inputs(self, X) -> np.ndarray:
        """X as float64, shape (n, k) for the network's k inputs, n >= 1; else a ValueError naming both shapes."""
        X = np.asarray(X, dtype=np.float64)
        k = self.params.n_inputs
        if X.ndim != 2 or X.shape[1] != k or len(X) == 0:
            raise ValueError(f"X has shape {X.shape}; this network has {k} input{'s' if k > 1 else ''}: give X of "
                             f"shape (n, {k}), a row per example (X.reshape(1, -1) for one)")
        return X

    def _targets(self, y, n: int) -> np.ndarray:
        """y as float64, shape (n,) for one output, (n, m) for m; else a ValueError naming both shapes."""
        y = np.asarray(y, dtype=np.float64)
        m = self.params.n_outputs
        shape = (n,) if m == 1 else (n, m)
        if y.shape != shape:
            outputs = "one output" if m == 1 else f"{m} outputs"
            raise ValueError(f"y has shape {y.shape}; for X's {n} rows and this network's {outputs}, give y of shape "
                             f"{shape}: {'a target' if m == 1 else 'a column of targets'} per row")
        return y

    def _repr_svg_(self) -> str:
        """The network with its weights, drawn (render.svg): what a notebook shows."""
        from .render.svg import network_svg

        return network_svg(self.params, tuple(f"x{j}" for j in range(1, self.params.n_inputs + 1)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class _Estimator:
    """What FwdbackRegressor and FwdbackClassifier share: parameters made from settings.SETTINGS
    (`_settings`, a class's own), their checks, the run (run.fit) they map onto, the fitted
    attributes, warm starts, model files and scikit-learn's conventions. A subclass says what
    its targets are (`_targets`), what its network outputs (`_network`) and how it predicts and scores."""

    _settings: tuple[Setting, ...] = SETTINGS
    _defaults: dict[str, object]  # each parameter's default, by name (_declare)

    def __init__(self, **parameters):
        """Store each parameter as given (scikit-learn's rule: fit checks them). The signature,
        set right after each class, is made from its settings (_declare): one keyword-only
        parameter per setting, with its default, so that scikit-learn's get_params and clone read
        it as written."""
        defaults = self._parameters()
        unknown = next((name for name in parameters if name not in defaults), None)
        if unknown is not None:
            raise _unknown(type(self).__name__, unknown, tuple(defaults))
        for name, default in defaults.items():
            setattr(self, name, parameters.get(name, default))

    @quiet_floats
    def fit(self, X, y) -> _Estimator:
        """Train on X, shape (n, k), and y, shape (n,) (a regressor's (n, m) too: one output each),
        from random initial weights, or with warm_start from the fitted ones; returns self.

        X and y may be Dask collections (an array, a data frame and a series): with a Dask client
        running, the rows stay on its workers, in their blocks, and training is engines.dask's;
        without one, they are computed into memory.

        Raises ValueError for invalid parameters or data, and errors.TrainingDiverged (with a
        learning rate to try) when the loss grows without bound.
        """
        self._check_params()
        if _is_dask(X) or _is_dask(y):
            return self._fit_dask(X, y)
        names = _feature_names(X)
        X = _as_matrix(X, type(self).__name__)
        targets, network = self._targets(y, X, names)
        start = self._start(network, _seed(self.random_state))
        # X in the CLI's layout (data.py: the transposed view of a feature-major block), so the
        # same BLAS kernels run on the same layout and the weights agree with the CLI's bit for bit.
        fitted = run.fit(start, prepare(np.asfortranarray(X), targets, start.plan, start.weights.scaling))
        return self._fitted(fitted, network, names, start.plan.seed)

    def _network(self, n_features: int, target, classes: Classes | None = None) -> run.NetworkSettings:
        """The network the parameters ask for: n_features inputs (named x1.., as the model file's
        columns where X has no names), an output for each name of `target` or, for a classifier,
        as its `classes` and loss ask (run.NetworkSettings)."""
        return run.NetworkSettings(tuple(f"x{j}" for j in range(1, n_features + 1)), target, int(self.hidden),
                                   self.activation, self._output_activation(), bool(self.bias), classes)

    def _fit_dask(self, X, y) -> _Estimator:
        """fit of Dask collections: on the workers of the running client's cluster, else in memory."""
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):  # no client (or no distributed): the rows are computed into memory
            return self.fit(*(data.compute() if _is_dask(data) else data for data in (X, y)))
        from .engines.dask import dask_arrays

        names = _feature_names(X)
        target_name = _target_name(y, names)
        seed = _seed(self.random_state)
        run.check_dask(self._plan(seed), run.NetworkSettings(target=target_name))
        X, y = dask_arrays(X, y)
        _check_shape(X.shape, type(self).__name__)
        _check_length(X.shape[0], y.shape[0])
        partitions, network = self._partitions(client, X, y, target_name)
        start = self._start(network, seed)
        fitted = run.fit(start, self._partitioned_rows(partitions, start))
        return self._fitted(fitted, network, names, start.plan.seed)

    def _start(self, network: run.NetworkSettings, seed: int) -> run.StartingPoint:
        """Where the run the parameters ask for starts: random weights by `seed` for `network`
        (_network) (run.starting_point's errors:
        FrozenParameters, a ValueError, for freeze naming no parameter or every one; NotEnoughMemory).
        With warm_start on a fitted estimator, the fitted run goes on as `fwdback train --resume`
        goes on with a model (run.resumed_start): its weights, scaling, update rule's state and
        settings, the epochs numbered on; the parameters must say what the run says (_given;
        ResumeConflict)."""
        if not (self.warm_start and self.__sklearn_is_fitted__()):
            return run.starting_point(self._plan(seed), network)
        fitted = self.params_
        shapes = [("columns of X (n_features_in_)", fitted.n_inputs, len(network.features))]
        if network.classes is None:  # a classifier's outputs are its fitted classes', for the loss it goes on with
            shapes.append(("columns of y (outputs)", fitted.n_outputs, network.architecture.n_outputs))
        for what, has, asked in shapes:
            if asked != has:
                raise ValueError(f"{type(self).__name__}(warm_start=True) goes on with the fitted network, which takes "
                                 f"{has} {what}, not {asked}; give it those, or fit afresh with warm_start=False")
        return run.resumed_start(self._model(), self._plan(seed), network, self._given())

    def _given(self) -> frozenset[str]:
        """The settings a warm start must agree on with the fitted run, as the options given to
        --resume must: every setting --resume goes on with, but those left None (which go on with
        the run's: lr with the step it chose) and a random_state that is no seed (None, a
        Generator, a RandomState: the run's seed goes on)."""
        return frozenset(setting.name for setting in self._settings
                         if setting.resumed and (value := getattr(self, setting.estimator_name)) is not None
                         and (setting.name != "seed" or _is_int(value)))

    def _plan(self, seed: int) -> TrainingPlan:
        """The training plan of the parameters (checked by _check_params), each as the plan's
        type; `seed` is random_state's (_seed)."""
        return TrainingPlan(**{setting.name: seed if setting.name == "seed" else _typed(setting, getattr(self, setting.estimator_name))
                               for setting in PLAN_SETTINGS})

    def _fitted(self, fitted: run.Run, network: run.NetworkSettings, names, seed: int) -> _Estimator:
        """self, with the fitted attributes of a finished run (run.Run) of `network` and its record."""
        result = fitted.result
        self._set_fitted(fitted.params, fitted.rows.scaling, len(network.features), names, network.classes)
        self.target_name_ = network.target
        before = result.first_epoch - 1  # the epochs of the fit a warm start goes on from
        self.loss_curve_ = getattr(self, "loss_curve_", [])[:before] + result.losses.tolist()
        self.validation_loss_curve_ = None if result.val_losses is None else \
            (getattr(self, "validation_loss_curve_", None) or [])[:before] + result.val_losses.tolist()
        self.n_iter_ = result.last_epoch
        self.best_epoch_ = result.best_epoch
        self.stop_ = result.stop.value
        self.final_loss_ = result.final_loss
        self.lr_ = fitted.plan.lr
        self.seed_ = seed
        self._training = fitted.training_record()
        return self

    def _set_fitted(self, params: Parameters, scaling, n_features: int, names, classes: Classes | None) -> None:
        """The fitted attributes of the network, and a classifier's classes_ (of `classes`)."""
        if classes is not None:
            self.classes_ = np.asarray(classes.labels)
        self.params_ = params
        self.weights_ = params.as_dict()
        self.scaling_ = scaling
        self.n_features_in_ = n_features
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _check_predictable(self, X) -> None:
        """A NotFittedError before fit, a ValueError for a data frame X of other columns than fit's."""
        if not self.__sklearn_is_fitted__():
            raise _not_fitted(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X, y) before predict or score"
            )
        names = _feature_names(X)
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None and list(names) != list(fitted_names):
            raise ValueError(
                f"The feature names should match those that were passed during fit: {list(fitted_names)}, "
                f"not {list(names)}; select and order the columns as in fit"
            )

    def _outputs(self, X) -> np.ndarray:
        """The network's outputs yhat, shape (n,) (or (n, m) for m outputs), in y's units, for X,
        shape (n, k), in memory."""
        return self._model().predict(_as_matrix(X, type(self).__name__, self.n_features_in_))

    def _model(self) -> Model:
        names = getattr(self, "feature_names_in_", None)
        features = tuple(names) if names is not None else tuple(f"x{j}" for j in range(1, self.n_features_in_ + 1))
        training = getattr(self, "_training", None) or TrainingRecord()
        return Model(self.params_, features, getattr(self, "target_name_", "y"), training, self.scaling_,
                     self._classes())

    def _classes(self) -> Classes | None:
        """A classifier's classes (classes_); None for a regressor."""
        return None

    @property
    def network_(self) -> Network:
        """The fitted weights as a Network, to run forward, backward or explain on (in z-score
        units where scaling_ is not None: give it scaling_.features(X))."""
        if not self.__sklearn_is_fitted__():
            raise _not_fitted(f"This {type(self).__name__} instance is not fitted yet; call fit(X, y) before network_")
        return Network(self.params_)

    def save(self, path: str) -> None:
        """Write the fitted model as a model file (`fwdback predict --model PATH` reads it), whole
        and only once written, as the command line writes one. A file at `path` that is not a
        fwdback model is never replaced (errors.ForeignFile, a ValueError)."""
        from .modelfile import model_json, replaced_model
        from .outputs import Outputs

        if not self.__sklearn_is_fitted__():
            raise _not_fitted(f"This {type(self).__name__} instance is not fitted yet; call fit(X, y) before save")
        with Outputs({}) as outputs:
            output = outputs.file(path, "save(path)", example="model.json")
            replaced_model(output)
            outputs.open(output).write(model_json(self._model(), path))
            outputs.commit()

    @classmethod
    def from_model(cls, path: str) -> _Estimator:
        """A fitted estimator of the model file at `path` (as `fwdback train` saves one): its
        weights, scaling and training plan; feature_names_in_ are its columns. A classifier's model
        is FwdbackClassifier's, a regressor's FwdbackRegressor's (a ValueError names the other)."""
        from .modelfile import load_model

        model = load_model(path)
        params = model.params
        settings = stored_settings(model)
        _check_loss(cls.__name__, settings["loss"], cls._classifies, path)
        # Every setting of the run (its seed is random_state); one the file does not record is the default.
        estimator = cls(**{setting.estimator_name: settings[setting.name] for setting in cls._settings
                           if setting.name in settings})
        estimator._set_fitted(params, model.scaling, params.n_inputs, np.asarray(model.features, dtype=object),
                              model.classes)
        estimator.target_name_ = model.target
        estimator._training = model.training
        return estimator

    @classmethod
    def _parameters(cls) -> dict[str, object]:
        """The constructor's parameters and their defaults, as its signature has them (_declare)."""
        return cls._defaults

    def get_params(self, deep: bool = True) -> dict[str, object]:
        """The constructor's parameters by name (`deep` is for scikit-learn: none of them is an estimator)."""
        return {name: getattr(self, name) for name in self._parameters()}

    def set_params(self, **params) -> _Estimator:
        """Set constructor parameters by name (checked by the next fit); returns self."""
        valid = list(self._parameters())
        for name in params:
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters are: {valid!r}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """The class with the parameters that differ from their defaults, as scikit-learn prints estimators."""
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name, default in self._parameters().items()
            if repr(getattr(self, name)) != repr(default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _repr_html_(self) -> str:
        """What a notebook shows: the parameters, and once fitted the network with its weights
        and the loss curve (render.svg), beside what the fit chose and why it stopped."""
        from .render.safe import html_text as escape

        if not self.__sklearn_is_fitted__():
            return f"<pre>{escape(repr(self))} (not fitted)</pre>"
        from .render.svg import loss_svg, network_svg

        model = self._model()
        epochs = np.arange(1, len(self.loss_curve_) + 1)
        validation = None if self.validation_loss_curve_ is None else np.array(self.validation_loss_curve_)
        facts = (f"{count(self.n_iter_)} epochs, learning rate {self.lr_:g}{' (chosen)' if self.lr is None else ''}, "
                 f"stopped: {self.stop_}, final loss {self.final_loss_:.6g}"
                 f"{', on z-scores' if self.scaling_ is not None else ''}")
        return (f"<div><pre>{escape(repr(self))}</pre><p>{escape(facts)}</p>"
                f"{network_svg(model.params, model.features, model.predicted, frozen=tuple(self.freeze))}"
                f"{loss_svg(epochs, np.array(self.loss_curve_), validation, final=self.final_loss_)}</div>")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "params_")

    def _check_params(self) -> None:
        """A ValueError naming the first parameter that fit cannot use, and what it must be (each
        setting's constraint, settings.SETTINGS), or one given where the run would not use it
        (errors.SettingNotUsed). random_state takes more than a seed, and _seed reads it."""
        call = type(self).__name__
        _check_arguments(call, {setting.estimator_name: getattr(self, setting.estimator_name)
                                for setting in self._settings if setting.name != "seed"})
        _check_loss(call, self.loss, self._classifies)
        check_used({setting.name: _typed(setting, getattr(self, setting.estimator_name)) for setting in PLAN_SETTINGS
                    if setting.name != "seed"})


class FwdbackRegressor(_Estimator):
    """The lecture's network trained by gradient descent (on the MSE by default), as a scikit-learn-style regressor.

    The parameters are `fwdback train`'s options by the same names (random_state is --seed),
    with the same defaults: the settings of settings.SETTINGS, whose table (each setting's
    option, parameter, default and meaning) is the README's "Settings". They are stored as
    given; fit checks them, refusing a value other than the default that the run would not
    use (momentum with optimizer "gd", as the command line does). Both map onto one
    plan.TrainingPlan and train with run.fit, the library's run.

    random_state : int, None, numpy Generator or RandomState
                                  the seed of the initial weights, shuffles and split. None draws
                                  a fresh seed each fit; a Generator or RandomState gives one seed.
                                  The seed used is kept as seed_ (`fwdback train --seed` repeats it).

    Fitted attributes:
    params_ : network.Parameters  the final weights (in z-score units with standardize)
    weights_ : dict               the same by the lecture's names, {"w1": ..., "b3": ...}
    loss_curve_ : list of float   loss_curve_[k - 1] is epoch k's training loss, before its update, by the
                                  `loss` convention: the MSE (1/n) sum (y - yhat)^2 by default (scikit-learn's
                                  MLPRegressor reports half that, loss="half-mse");
                                  after from_model and a warm start, only the epochs this fit ran
    validation_loss_curve_ : list of float or None   the validation loss at the same weights
    n_iter_ : int                 epochs run (after a warm start, counted on from the fit before)
    best_epoch_ : int or None     the epoch kept by early stopping
    stop_ : str                   why training ended: "epochs", "converged", "early_stopping"
    final_loss_ : float           the training loss at the final weights
    lr_ : float                   the learning rate used (chosen when lr is None)
    scaling_ : scaling.Scaling or None   the z-score means and standard deviations
    n_features_in_ : int          columns of X;  seed_ : int, the seed used
    feature_names_in_ : array of str   the columns' names, where X was a data frame with string names
    target_name_ : str            y's name where it has one (a pandas Series'), else "y": the model
                                  file's target, the column `fwdback evaluate` scores against

    `save(path)` writes a model file `fwdback predict` reads, and `from_model(path)` makes a
    fitted estimator of one `fwdback train` wrote.
    """

    _estimator_type = "regressor"  # scikit-learn < 1.6 reads this; 1.6 and later call __sklearn_tags__
    _classifies = False

    def __init__(self, **parameters):
        super().__init__(**parameters)

    def _targets(self, y, X: np.ndarray, names) -> tuple[np.ndarray, run.NetworkSettings]:
        """y as the network's targets, shape (n,) or (n, m), and the network of an output for each."""
        targets = _as_target(y, len(X), type(self).__name__)
        target = _target_name(y, names) if targets.ndim == 1 else _target_names(y, targets.shape[1], names)
        return targets, self._network(X.shape[1], target)

    def _output_activation(self) -> str:
        return self.output_activation

    def _partitions(self, client, X, y, target: str):
        """(engines.dask.Partitions of X's and y's blocks on the workers, the network they train)."""
        from .engines.dask import partitions_of

        return partitions_of(client, X, y), self._network(X.shape[1], target)

    def _partitioned_rows(self, partitions, start: run.StartingPoint):
        from .engines.dask import prepare_partitioned

        return prepare_partitioned(partitions, start.plan, start.weights.scaling)

    @quiet_floats
    def predict(self, X) -> np.ndarray:
        """yhat, shape (n,), in y's units, for X, shape (n, k). Of a Dask array, a Dask array (of a
        Dask data frame, a series), computed block by block where it is computed."""
        self._check_predictable(X)
        if _is_dask(X):
            from .engines.dask import predicted_lazily

            return predicted_lazily(self.predict, X)
        return self._outputs(X)

    @quiet_floats
    def score(self, X, y) -> float:
        """R^2 = 1 - SS_res / SS_tot of the predictions for X against y: 1 is exact, 0 is y's mean.

        A constant y (SS_tot = 0) scores 1 when predicted exactly and 0 otherwise, as
        scikit-learn's r2_score does.
        """
        yhat = self.predict(X)
        y = _as_target(y, len(yhat), type(self).__name__)
        if y.shape != yhat.shape:
            raise ValueError(f"y has shape {y.shape}, but the model predicts shape {yhat.shape}; give one column per output")
        return float(np.mean([_r2(column, predicted) for column, predicted in zip(y.reshape(len(y), -1).T,
                                                                                   yhat.reshape(len(y), -1).T)]))

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (1.6 and later): a single-output regressor of dense, finite 2-D X."""
        from sklearn.utils import RegressorTags, Tags, TargetTags  # only scikit-learn calls this

        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True), regressor_tags=RegressorTags())


class FwdbackClassifier(_Estimator):
    """The lecture's network as a scikit-learn-style classifier: the outputs go through the
    loss's link and are the classes' probabilities, trained on their log loss.

    Its parameters are FwdbackRegressor's (`fwdback train`'s options), but for
    output_activation, which is the loss's link, and `loss`, which is a classifier's:

    loss : "cross-entropy" (default)  a softmax over one output per class, yhat_j = P(classes_[j]),
                                      for any number of classes (two included), as scikit-learn's
                                      LogisticRegression and MLPClassifier's multinomial output;
           "bce"                      one sigmoid output, yhat = P(classes_[1]), for two classes

    y is one label per row, numbers or strings. Fitted attributes: FwdbackRegressor's (loss_curve_
    is the mean log loss, the final weights' final_loss_), and

    classes_ : array              the distinct labels, sorted as scikit-learn sorts them (numbers by
                                  value, else as text): predict_proba's columns, in order

    `save(path)` writes a model file whose classes `fwdback predict` names its columns by, and
    `from_model(path)` makes a fitted classifier of one `fwdback train --loss bce|cross-entropy` wrote.
    """

    _estimator_type = "classifier"  # scikit-learn < 1.6 reads this; 1.6 and later call __sklearn_tags__
    _classifies = True

    def __init__(self, **parameters):
        super().__init__(**parameters)

    def _targets(self, y, X: np.ndarray, names) -> tuple[np.ndarray, run.NetworkSettings]:
        """The network's targets for y's labels (classes.Classes.targets: shape (n,) of 0/1 for
        bce, (n, m) one-hot for cross-entropy), and the network of its classes: y's own, or with
        warm_start the fitted ones (errors.UnknownClass for a label that is none of them)."""
        labels = _as_labels(y, len(X), type(self).__name__)
        fitted = self._classes() if self.warm_start and self.__sklearn_is_fitted__() else None
        targets, classes = class_targets(labels, LOSSES[self.loss], fitted)
        return targets, self._network(X.shape[1], _target_name(y, names), classes)

    def _output_activation(self) -> str:
        return LOSSES[self.loss].link

    def _classes(self) -> Classes:
        return Classes(tuple(self.classes_.tolist()))

    def _partitions(self, client, X, y, target: str):
        """(engines.dask.Partitions of X's blocks and their labels' targets on the workers, the
        network of their classes: the labels' own, found on the workers, or with warm_start the
        fitted ones). Each block's labels are checked as fit checks labels (_as_labels)."""
        from .engines.dask import Partitions, partitions_of

        partitions = partitions_of(client, X, y, labels=True)
        firsts = np.cumsum([0, *partitions.rows[:-1]]).tolist()
        if self.warm_start and self.__sklearn_is_fitted__():
            classes = self._classes()
        else:
            found = client.gather(client.map(_block_classes, partitions.futures, firsts, pure=False))
            classes = Classes.of(set().union(*found)).check(LOSSES[self.loss])
        futures = client.map(_block_targets, partitions.futures, firsts, classes=classes, loss=LOSSES[self.loss],
                             pure=False)
        return Partitions(client, futures, partitions.rows), self._network(X.shape[1], target, classes)

    def _partitioned_rows(self, partitions, start: run.StartingPoint):
        from .engines.dask import partitioned_classifier

        return partitioned_classifier(partitions, start.plan, start.weights.scaling)

    @quiet_floats
    def predict_proba(self, X) -> np.ndarray:
        """P(classes_[j] | row i), shape (n, n_classes), for X, shape (n, k): the softmax's outputs,
        or bce's 1 - yhat and yhat (classes.probabilities). Of a Dask array or data frame, a Dask
        array, computed block by block where it is computed."""
        self._check_predictable(X)
        if _is_dask(X):
            from .engines.dask import predicted_lazily

            return predicted_lazily(self.predict_proba, X, columns=len(self.classes_))
        return probabilities(self._outputs(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, shape (n,), for X, shape (n, k) (the first of
        classes_ where two are equally probable: bce's yhat = 1/2 is classes_[0]). Of a Dask array
        or data frame, a Dask array or series, computed block by block where it is computed."""
        self._check_predictable(X)
        if _is_dask(X):
            from .engines.dask import predicted_lazily

            numbers = self.classes_.dtype.kind in "biuf"
            return predicted_lazily(self.predict, X, self.classes_.dtype if numbers else object)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y) -> float:
        """Accuracy: the fraction of rows of X whose predicted class is y's label, as scikit-learn's
        ClassifierMixin.score."""
        predicted = self.predict(X)
        return float(np.mean(predicted == _as_labels(y, len(predicted), type(self).__name__)))

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (1.6 and later): a classifier of a column of labels, of dense, finite 2-D X."""
        from sklearn.utils import ClassifierTags, Tags, TargetTags  # only scikit-learn calls this

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())


def _declare(estimator: type[_Estimator], settings: tuple[Setting, ...]) -> None:
    """`estimator`'s parameters are `settings`: the signature of its __init__, one keyword-only
    parameter per setting, with its default, which scikit-learn's get_params and clone read."""
    estimator._settings = settings
    estimator._defaults = {setting.estimator_name: setting.default for setting in settings}
    estimator.__init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
           for name, default in estimator._defaults.items()]
    )


# The classifier's output activation is its loss's link (losses.Loss.link), not a parameter; its
# loss is a classifier's, cross-entropy by default: it takes any number of classes.
CLASSIFIER_SETTINGS = tuple(dataclasses.replace(setting, default="cross-entropy") if setting.name == "loss" else setting
                            for setting in SETTINGS if setting.name != "output_activation")
_declare(FwdbackRegressor, SETTINGS)
_declare(FwdbackClassifier, CLASSIFIER_SETTINGS)


# The settings of a run that Network.explain takes, as `fwdback explain` does: the plan's
# (the network's shape is the Network's own), but those of train alone (epochs, tol).
EXPLAINED = tuple(setting for setting in PLAN_SETTINGS if "explain" in setting.commands)
# Network's arguments that are settings, by a setting's name (Network.random's seed) or the estimator's (explain's).
_BY_ARGUMENT = BY_NAME | {setting.estimator_name: setting for setting in SETTINGS}
_SHAPE = ("n_outputs", "output_activation", "bias")


def _check_arguments(call: str, arguments: dict) -> None:
    """A ValueError naming the first of `call`'s arguments (name -> value) that its setting's
    constraint refuses (settings.SETTINGS), and what it must be."""
    for name, value in arguments.items():
        setting = _BY_ARGUMENT[name]
        if not setting.admits(value):
            raise ValueError(f"{call}({name}={value!r}): {name} must be {setting.need()}")


def _unknown(call: str, name: str, taken: tuple[str, ...]) -> UnknownArgument:
    """The refusal of a keyword `call` does not take, with the one of `taken` it stands for where it
    is a setting's name at another door (n_hidden, the model file's; random_state, the estimator's)."""
    meant = next((other for setting in SETTINGS if name in (setting.name, setting.estimator_name, setting.recorded_as)
                  for other in (setting.name, setting.estimator_name) if other in taken and other != name), None)
    return UnknownArgument(call, name, taken, meant)


def _architecture(call: str, n_inputs, hidden, activation, shape: dict, own: tuple[str, ...]) -> Architecture:
    """The network a Network constructor's arguments ask for: hidden, activation and `shape`'s
    bias checked by their settings, output_activation as a network may have it (a classifier's
    softmax too: NETWORK_OUTPUT_ACTIVATIONS), n_inputs and n_outputs by Architecture; `own`: the
    call's other arguments, named with these where a keyword is not taken."""
    unknown = next((name for name in shape if name not in _SHAPE), None)
    if unknown is not None:
        raise _unknown(call, unknown, ("n_inputs", "hidden", "activation", *own, *_SHAPE))
    _check_arguments(call, {"hidden": hidden, "activation": activation} | {
        name: value for name, value in shape.items() if name not in ("n_outputs", "output_activation")})
    output = shape.get("output_activation", "identity")
    if output not in NETWORK_OUTPUT_ACTIVATIONS:
        raise ValueError(f"{call}(output_activation={output!r}): output_activation must be one of "
                         f"{', '.join(map(repr, NETWORK_OUTPUT_ACTIVATIONS))}")
    return Architecture(n_inputs, hidden, activation=activation, **shape)


def _typed(setting: Setting, value):
    """A checked parameter's value as the plan's type: float for a Real, int for an Integer (NumPy's
    scalars included), bool for a Flag, a tuple of names."""
    if value is None:
        return None
    converted = {Real: float, Integer: int, Flag: bool, Names: tuple}.get(type(setting.constraint))
    return value if converted is None else converted(value)


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    """R^2 of one output (y, yhat : shape (n,)); several outputs score the mean of theirs, as
    scikit-learn's r2_score. R^2 does not change with the units, so y and yhat are divided by
    their largest |value| first, and values around 1e307 score as values around 1 do (an
    infinite prediction scores -inf)."""
    scale = float(max(np.max(np.abs(y), initial=0.0), np.max(np.abs(yhat), initial=0.0)))
    if 0 < scale < np.inf:
        y, yhat = y / scale, yhat / scale
    residual, centred = y - yhat, y - y.mean()
    ss_res, ss_tot = float(residual @ residual), float(centred @ centred)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def _is_float(value) -> bool:
    """Whether NumPy makes a float64 of `value`."""
    try:
        np.float64(value)
    except (TypeError, ValueError):
        return False
    return True


def _check_loss(estimator: str, loss: str, classifies: bool, model: str | None = None) -> None:
    """A ValueError where `loss` (a name in losses.LOSSES) is not the kind of loss of `estimator`
    (a classifier's where `classifies`), naming the estimator whose it is: of its parameter, or of
    the `model` file from_model reads."""
    if LOSSES[loss].classifies == classifies:
        return
    kind, other, own = ("a regressor's", "FwdbackRegressor", CLASSIFICATION_LOSS_NAMES) if classifies else \
        ("a classifier's", "FwdbackClassifier", REGRESSION_LOSS_NAMES)
    if model is not None:
        raise ValueError(f"{model} is {kind} model (trained with loss {loss}); load it with {other}.from_model")
    raise ValueError(f"{estimator}(loss={loss!r}): {loss} is {kind} loss; use {other}(loss={loss!r}), "
                     f"or give loss one of {', '.join(map(repr, own))}")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _seed(random_state) -> int:
    """The integer seed that a random_state stands for; None draws a fresh one from the OS."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**32, dtype=np.uint64))
    if _is_int(random_state) and random_state >= 0:
        return int(random_state)
    raise ValueError(
        f"random_state={random_state!r}: give a seed (an integer of at least 0), None for a fresh seed, "
        "or a numpy Generator or RandomState"
    )


def _is_dask(data) -> bool:
    """Whether `data` is a Dask collection (array, data frame, series), known without importing Dask."""
    return type(data).__module__.split(".")[0] == "dask"


def _feature_names(X) -> np.ndarray | None:
    """The column names of a data frame whose names are all strings (as scikit-learn keeps them), else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    return np.asarray(names, dtype=object) if names and all(isinstance(name, str) for name in names) else None


def _target_names(y, n_targets: int, feature_names) -> tuple[str, ...]:
    """Several targets' names: a data frame's string columns where they are distinct and no
    feature's, else y1, y2, ... (y as given to fit, before conversion)."""
    columns = list(getattr(y, "columns", []))
    taken = set(feature_names) if feature_names is not None else set()
    if len(columns) == n_targets and all(isinstance(name, str) and name for name in columns) \
            and len(set(columns)) == n_targets and not set(columns) & taken:
        return tuple(columns)
    return tuple(f"y{j}" for j in range(1, n_targets + 1))


def _target_name(y, feature_names) -> str:
    """The name of y where it has one (a pandas Series' string `.name`, or a one-column data
    frame's column), as the model file's target, so that `fwdback evaluate` finds its column;
    "y" otherwise, or where a feature has that name."""
    columns = list(getattr(y, "columns", []))
    name = columns[0] if len(columns) == 1 else getattr(y, "name", None)
    if isinstance(name, str) and name.strip() and (feature_names is None or name not in list(feature_names)):
        return name
    return "y"


def _as_matrix(X, estimator: str, n_features: int | None = None) -> np.ndarray:
    """X as a finite float64 array, shape (n, k), with k = n_features when given; else a ValueError saying what to fix."""
    if hasattr(X, "tocsr"):  # a scipy.sparse matrix or array, recognised without importing scipy
        raise TypeError(f"{estimator} does not take sparse input; pass X.toarray()")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported: X must be real numbers; pass X.real if the imaginary parts are zero")
    X = X.astype(np.float64, copy=False)
    _check_shape(X.shape, estimator, n_features)
    if not np.isfinite(X).all():
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X contains NaN or inf (X[{row}, {column}] is {X[row, column]}); drop or fill those values")
    return X


def _check_shape(shape: tuple, estimator: str, n_features: int | None = None) -> None:
    """A ValueError saying what to fix where X's shape is not (n, k), n >= 1, k >= 1 (k =
    n_features when given): of an array in memory or a Dask array alike."""
    if len(shape) != 2:
        raise ValueError(
            f"X must be 2-D, shape (n_samples, n_features), but has shape {shape}. Reshape your data with "
            "X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if it is a single sample."
        )
    if shape[0] == 0:
        raise ValueError(f"X has 0 sample(s) (shape={shape}) while a minimum of 1 is required; give it rows")
    if shape[1] == 0:
        raise ValueError(f"X has 0 feature(s) (shape={shape}) while a minimum of 1 is required; give it columns")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"X has {shape[1]} features, but {estimator} is expecting {n_features} features as input; "
            "pass the columns it was fitted on"
        )


def _check_length(n_rows: int, n_values: int) -> None:
    if n_values != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {n_values} values; give one target per row")


def _as_target(y, n_rows: int, estimator: str) -> np.ndarray:
    """y as a finite float64 array, shape (n_rows,), or (n_rows, m) for m targets; a column
    (n_rows, 1) is flattened with a warning."""
    if y is None:
        raise ValueError(f"{estimator} requires y to be passed, but the target y is None; give one target per row of X")
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise ValueError("Complex data not supported: y must be real numbers")
    try:
        y = y.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        label = next(value for value in y.ravel().tolist() if not _is_float(value))
        raise ValueError(f"y holds {label!r}, which is not a number: {estimator} regresses numbers; "
                         "for class labels use FwdbackClassifier") from None
    if y.ndim == 2 and y.shape[1] == 1:
        message = "A column-vector y was passed when a 1d array was expected; pass y.ravel(), shape (n_samples,)"
        warnings.warn(DataConversionWarning(message), stacklevel=3)
        y = y.ravel()
    if y.ndim not in (1, 2):
        raise ValueError(f"y should be a 1d array (one target) or 2-D (one column per target), got shape {y.shape}")
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError(f"y has 0 outputs (shape {y.shape}); give at least one target column")
    _check_length(n_rows, len(y))
    if not np.isfinite(y).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise ValueError(f"y contains NaN or inf (y[{', '.join(map(str, where))}] is {y[where]}); drop those rows or fill the values")
    return y


def _as_labels(y, n_rows: int, estimator: str, first: int = 0) -> list:
    """y's class labels, one per row, as Python numbers or strings; a column (n_rows, 1) is
    flattened with a warning. A ValueError for what is no class label: a missing value, or a
    number with a fraction (scikit-learn's "continuous" target, a regressor's), naming its row
    (counted from `first`, a block's first row in the whole of y)."""
    if y is None:
        raise ValueError(f"{estimator} requires y to be passed, but the target y is None; give one label per row of X")
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise ValueError("Complex data not supported: y must be class labels, numbers or strings")
    if y.ndim == 2 and y.shape[1] == 1:
        message = "A column-vector y was passed when a 1d array was expected; pass y.ravel(), shape (n_samples,)"
        warnings.warn(DataConversionWarning(message), stacklevel=3)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array of class labels, one per row, got shape {y.shape}")
    _check_length(n_rows, len(y))
    labels = y.tolist()
    for row, label in enumerate(labels, start=first):
        if label_problem(label.strip(" \t") if isinstance(label, str) else label):
            raise ValueError(f"y[{row}] is {label!r}, not a class label; drop that row or give it its class")
        if isinstance(label, float) and not label.is_integer():
            raise ValueError(f"Unknown label type: continuous (y[{row}] is {label}); a classifier's labels are "
                             "classes, whole numbers or strings: use FwdbackRegressor for a continuous target")
    kinds = {isinstance(label, str) for label in labels}
    if len(kinds) == 2:
        text = next(label for label in labels if isinstance(label, str))
        number = next(label for label in labels if not isinstance(label, str))
        raise ValueError(f"y mixes numbers and strings ({number!r} and {text!r}); give labels of one kind, "
                         "numbers or strings (y.astype(str), say)")
    return labels


def _block_classes(partition, first: int) -> set:
    """The distinct labels of a block of rows on a Dask worker, (X, labels), checked as fit checks
    labels (_as_labels); `first`: the block's first row in the whole of y."""
    return set(_as_labels(partition[1], len(partition[1]), "FwdbackClassifier", first))


def _block_targets(partition, first: int, classes: Classes, loss) -> tuple[np.ndarray, np.ndarray]:
    """A block of rows on a Dask worker, (X, labels), as (X, the network's targets by `classes`):
    classes.class_targets', an unknown label named by its row in the whole of y."""
    X, labels = partition
    return X, class_targets(_as_labels(labels, len(labels), "FwdbackClassifier", first), loss, classes,
                            rows_before=first)[0]


def _not_fitted(message: str) -> NotFittedError:
    """A NotFittedError that, once scikit-learn is loaded, is scikit-learn's NotFittedError too.

    scikit-learn's checks ask for its own class, and importing it would cost every fit about a
    second; so the joined class is made only where scikit-learn is already in use.
    """
    theirs = getattr(sys.modules.get("sklearn.exceptions"), "NotFittedError", None)
    return (NotFittedError if theirs is None else _joined(theirs))(message)


@functools.cache
def _joined(theirs: type) -> type:
    # Pickled (say, from a joblib worker), an instance comes back as fwdback's NotFittedError, which is importable.
    namespace = {"__module__": __name__, "__doc__": NotFittedError.__doc__, "__reduce__": lambda self: (NotFittedError, self.args)}
    return type("NotFittedError", (NotFittedError, theirs), namespace)
