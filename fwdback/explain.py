"""One epoch worked by hand: every value the engine computes, and the equations that show it.

`work_epoch` runs the engine (network.forward, mse_loss, backward, update) and keeps every
intermediate value; the equation builders below write them out in the lecture's notation,
in LaTeX for the markdown document and in plain text for the terminal (report.py). Numbers
are written by `number` alone: 6 significant digits, as a plain decimal or in e-notation
(1.23457e-05), so a reader can copy them and redo the arithmetic by hand.

Any k inputs and H hidden units are named as the lecture names its 3-2-1 network: inputs
x1..xk, hidden units N1..NH with weights w1..w(kH) (unit 1's k weights first) and biases
b1..bH, and the output yhat with weights w(kH+1)..w(kH+H) and bias b(H+1). With an
activation, z_h = w . x + b is what goes into unit h and N_h = act(z_h) what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import FwdbackError, LossOverflow, TrainingDiverged
from .network import ACTIVATIONS, Gradients, Parameters, backward, forward, mse_loss, update
from .scaling import Scaling
from .stepsize import suggest_lr
from .training import Prepared, StopReason, TrainingPlan, check_memory, epoch_order, prepare, run_plan

# A sum over more rows than are shown writes out this many terms, then "...".
SUM_TERMS = 3
# A mini-batch's row numbers are listed up to this many, then "...".
LISTED_ROWS = 20
# A change of the loss within this fraction of it is float64's rounding (16 eps).
ROUNDING = 16 * float(np.finfo(np.float64).eps)


@dataclass
class WorkedEpoch:
    """Epoch `epoch` of gradient descent, with every intermediate value of its (first) step.

    params are the weights at the start of the epoch, new_params those after the step.
    The step is full-batch over the training rows, or with `batch_size` the epoch's first
    mini-batch; X, y and every per-row array hold the rows of that step, n of them.
    X : shape (n, k)        the inputs x1..xk of every row
    y, yhat, error : (n,)   error = y - yhat
    Z : shape (n, H)        z_h = w . x + b, what goes into hidden unit h (N itself for identity)
    N : shape (n, H)        N[:, 0] is N1: act(z1)
    dL_dyhat : (n,)         dL/dyhat_i = -(2/n) (y_i - yhat_i)
    dL_dN : shape (n, H)    dL/dN_h,i = dL/dyhat_i * (unit h's output weight: w7 for N1)
    dN_dZ : shape (n, H)    dN_h/dz_h of each row, None for identity (where it is 1)
    dL_dZ : shape (n, H)    dL/dz_h,i = dL/dN_h,i * dN_h/dz_h (dL_dN itself for identity)
    loss, loss_after        the loss of these rows before and after the step
    row_numbers : (n,)      each row's 1-based row number in the data file
    n_train                 the rows training sees (the mini-batch is drawn from them)
    scaling                 how the rows were standardised, or None
    validation_rows         rows held out for validation (they take no part in the step)
    """

    epoch: int
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: Parameters
    N: np.ndarray
    yhat: np.ndarray
    error: np.ndarray
    dL_dyhat: np.ndarray
    dL_dN: np.ndarray
    loss: float
    gradients: Gradients
    new_params: Parameters
    loss_after: float
    Z: np.ndarray
    dN_dZ: np.ndarray | None
    dL_dZ: np.ndarray
    row_numbers: np.ndarray
    n_train: int
    batch_size: int | None = None
    scaling: Scaling | None = None
    validation_rows: int = 0

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def k(self) -> int:
        return self.params.n_inputs

    @property
    def hidden(self) -> int:
        return self.params.n_hidden

    @property
    def activation(self) -> str:
        return self.params.activation

    @property
    def activated(self) -> bool:
        """Whether the hidden layer has an activation (anything but the lecture's identity)."""
        return self.activation != "identity"

    @property
    def numbered_in_order(self) -> bool:
        """Whether the rows are the data file's rows 1..n, in order."""
        return np.array_equal(self.row_numbers, np.arange(1, self.n + 1))


def work_epoch(
    prepared: Prepared,
    params: Parameters,
    plan: TrainingPlan,
    epoch: int = 1,
    row_numbers: np.ndarray | None = None,
) -> WorkedEpoch:
    """Train epochs 1..epoch-1 from `params` as `fwdback train` would, then keep every value of
    epoch `epoch`'s first step.

    `prepared` are the rows training sees (split and scaled) and `plan` the training plan with
    its choices made (training.resolve); it shapes the epochs before, which run whatever the
    convergence stop would say (epoch `epoch` is asked for). The explained step is full-batch
    without plan.batch_size; with it, the first mini-batch of epoch `epoch`, in the order train
    shuffles that epoch's rows. `row_numbers` : shape (n,) are the rows' numbers in the data file
    (default 1..n).

    The loss, gradients and new weights are the engine's own results. The per-row links of
    the chain (dL/dyhat_i, dL/dN_i, dN/dz_i, dL/dz_i) are formed exactly as network.backward
    forms them before it sums over rows, so their sums are its gradients.
    Raises LossOverflow or TrainingDiverged when the loss overflows, FwdbackError when early
    stopping would end training before epoch `epoch`.
    """
    X, y, lr, batch_size = prepared.X, prepared.y, plan.lr, plan.batch_size
    row_numbers = np.arange(1, len(y) + 1) if row_numbers is None else np.asarray(row_numbers)
    check_memory(params.vector.size, params.n_hidden, len(y), batch_size or len(y), arrays_per_row=10)
    start = _start_of_epoch(prepared, params, plan, epoch)
    if batch_size is None:
        rows, X_step, y_step = np.arange(len(y)), X, y
    else:
        rows = epoch_order(plan.seed, epoch, len(y))[:batch_size]
        X_step, y_step = X[rows], y[rows]
    with np.errstate(all="ignore"):
        fwd = forward(start, X_step)
        loss = mse_loss(y_step, fwd.yhat)
        gradients = backward(start, X_step, y_step, fwd)
        new_params = update(start, gradients, lr)
        loss_after = mse_loss(y_step, forward(new_params, X_step).yhat)
        # The chain's links, as network.backward forms them.
        dL_dyhat = (fwd.yhat - y_step) * (2.0 / len(y_step))
        dL_dN = (start.w_out[:, None] * dL_dyhat).T
        _, derivative = ACTIVATIONS[start.activation]
        dN_dZ = None if derivative is None else derivative(fwd.Z.T, fwd.N.T).T
        dL_dZ = dL_dN if dN_dZ is None else (dL_dN.T * dN_dZ.T).T
    if not np.isfinite(loss):
        raise LossOverflow(loss, "at the initial weights" if epoch == 1 else f"at the start of epoch {epoch}")
    if not (np.isfinite(loss_after) and np.isfinite(new_params.vector).all()):
        raise TrainingDiverged(epoch, loss_after, suggest_lr(X, y, params, lr, batch_size=batch_size), prepared.scaling is not None)
    validation = prepared.validation
    return WorkedEpoch(
        epoch=epoch, lr=lr, X=X_step, y=y_step, params=start, N=fwd.N, yhat=fwd.yhat, error=y_step - fwd.yhat,
        dL_dyhat=dL_dyhat, dL_dN=dL_dN, loss=loss, gradients=gradients, new_params=new_params,
        loss_after=loss_after, Z=fwd.Z, dN_dZ=dN_dZ, dL_dZ=dL_dZ, row_numbers=row_numbers[rows], n_train=len(y),
        batch_size=batch_size, scaling=prepared.scaling, validation_rows=0 if validation is None else len(validation[1]),
    )


def _start_of_epoch(prepared: Prepared, params: Parameters, plan: TrainingPlan, epoch: int) -> Parameters:
    """The weights after epoch-1 epochs of the plan, every one of them run."""
    if epoch == 1:
        return params
    before = plan.replace(epochs=epoch - 1, tol=0.0)
    if plan.patience is not None:
        # A dry run with the same plan, only to learn whether early stopping ends training first.
        probe = run_plan(prepared, params, before).result
        if probe.stop is StopReason.EARLY_STOPPING:
            watched = "validation" if prepared.validation is not None else "training"
            raise FwdbackError(
                f"early stopping ends training after epoch {probe.last_epoch}, so there is no epoch {epoch} to explain "
                f"(the {watched} loss did not improve by more than {plan.min_delta:g} for "
                f"{plan.patience} epochs); use --epoch {probe.last_epoch} or less, or a larger --patience"
            )
    # Without early stopping, training ends with the weights of its last update, not the best epoch's.
    return run_plan(prepared, params, before.replace(patience=None)).result.final


def training_row_numbers(n: int, plan: TrainingPlan) -> np.ndarray:
    """The 1-based data-file numbers of the rows training keeps, in training's order.

    training.prepare holds out validation rows; running it on the row numbers themselves
    tells which rows it kept, without repeating how it chooses them.
    """
    numbers = np.arange(1, n + 1, dtype=np.float64)[:, None]
    return prepare(numbers, np.zeros(n), plan.replace(standardize=False)).X[:, 0].astype(np.int64)


# --- the network's names -------------------------------------------------------------------


def input_names(worked: WorkedEpoch) -> tuple[str, ...]:
    """x1..xk."""
    return tuple(f"x{j}" for j in range(1, worked.k + 1))


def hidden_units(worked: WorkedEpoch) -> list[tuple[str, tuple[str, ...], str]]:
    """(unit, its weights, its bias) for N1..NH: N1's weights are w1..wk, its bias b1."""
    names, k, h = worked.params.names, worked.k, worked.hidden
    return [(f"N{u + 1}", names[u * k : u * k + k], names[k * h + h + u]) for u in range(h)]


def output_unit(worked: WorkedEpoch) -> tuple[str, tuple[str, ...], str]:
    """("yhat", w(kH+1)..w(kH+H), b(H+1)): w7, w8, b3 for the 3-2-1 network."""
    names, k, h = worked.params.names, worked.k, worked.hidden
    return "yhat", names[k * h : k * h + h], names[-1]


def network_description(worked: WorkedEpoch) -> str:
    """'The lecture's 3-2-1 network', 'A 3-4-1 network with tanh hidden units', ..."""
    shape = "The lecture's 3-2-1 network" if (worked.k, worked.hidden) == (3, 2) else f"A {worked.k}-{worked.hidden}-1 network"
    return shape + (f" with {worked.activation} hidden units" if worked.activated else "")


# --- numbers -----------------------------------------------------------------------------


def number(value: float) -> str:
    """6 significant digits, plain or e-notation (1.23457e-05): never `x 10^k`, always copyable."""
    text = f"{float(value):.6g}"
    return "0" if text == "-0" else text


def factor(value: float) -> str:
    """A number plugged into an expression: in parentheses when negative."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def _power_base(value: float) -> str:
    text = number(value)
    return f"({text})" if text.startswith("-") or "e" in text else text


# --- notation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Notation:
    """How the equations are written: LaTeX (markdown) or plain text (the terminal)."""

    latex: bool

    def sym(self, name: str, i: str | None = None) -> str:
        """A quantity by its plain name (w1, b3, x1, N1, z1, y, yhat), of row i when given."""
        if name == "yhat":
            base, sub = (r"\hat{y}", "") if self.latex else ("yhat", "")
        else:
            base, sub = name[0], name[1:]
        if not self.latex:
            return base + sub + (f"_{i}" if i else "")
        if sub and i:
            return f"{base}_{{{sub},{i}}}"
        subscript = sub or i
        if not subscript:
            return base
        return f"{base}_{subscript}" if len(subscript) == 1 else f"{base}_{{{subscript}}}"

    def grad(self, name: str, i: str | None = None) -> str:
        """dL/d(name), of row i when given."""
        if self.latex:
            return rf"\frac{{\partial L}}{{\partial {self.sym(name, i)}}}"
        return f"dL/d{self.sym(name, i)}"

    def d_of(self, top: str, bottom: str, i: str | None = None, bottom_i: str | None = None) -> str:
        """d(top_i)/d(bottom), e.g. dN1_i/dw1; d(top_i)/d(bottom_i) with bottom_i, e.g. dN1_i/dz1_i."""
        if self.latex:
            return rf"\frac{{\partial {self.sym(top, i)}}}{{\partial {self.sym(bottom, bottom_i)}}}"
        return f"d{self.sym(top, i)}/d{self.sym(bottom, bottom_i)}"

    @property
    def times(self) -> str:
        return r" \cdot " if self.latex else "*"

    def product(self, a: str, b: str) -> str:
        """a times b: side by side in LaTeX (a number after a dot); with `*`, spaced around a derivative, in plain text."""
        if self.latex:
            return rf"{a} \cdot {b}" if b[0] in "0123456789(-." else f"{a} {b}"
        return f"{a} * {b}" if "/" in a + b else f"{a}*{b}"

    @property
    def sum_i(self) -> str:
        return r"\sum_{i=1}^{n} " if self.latex else "sum_i "

    @property
    def dots(self) -> str:
        return r"\cdots" if self.latex else "..."

    @property
    def eta(self) -> str:
        return r"\eta" if self.latex else "eta"

    @property
    def arrow(self) -> str:
        return r"\leftarrow" if self.latex else "<-"

    def frac(self, top: str, bottom: str) -> str:
        return rf"\frac{{{top}}}{{{bottom}}}" if self.latex else f"({top}/{bottom})"

    def square(self, base: str) -> str:
        return f"{base}^2"

    def inline(self, text: str) -> str:
        """Math inside a sentence: $...$ in markdown, as it is in plain text."""
        return f"${text}$" if self.latex else text

    def act(self, activation: str, argument: str) -> str:
        """act(argument): tanh(z1), max(0, z1), sigmoid(z1)."""
        if activation == "relu":
            return rf"\max(0, {argument})" if self.latex else f"max(0, {argument})"
        if activation == "sigmoid":
            return rf"\sigma({argument})" if self.latex else f"sigmoid({argument})"
        return rf"\tanh({argument})" if self.latex else f"tanh({argument})"

    def derivative(self, activation: str, unit: int | str, i: str | None = None, as_factor: bool = True) -> str:
        """dN/dz of hidden unit `unit` (1 or "h"), in terms of N or z: (1 - N1^2) for tanh;
        without the parentheses a product needs when not `as_factor`."""
        N, z = self.sym(f"N{unit}", i), self.sym(f"z{unit}", i)
        if activation == "sigmoid":
            return f"{N} (1 - {N})" if self.latex else f"{N}*(1 - {N})"
        if activation == "tanh":
            text = f"1 - {self.square(N)}"
        else:
            text = rf"1 \text{{ if }} {z} > 0 \text{{, else }} 0" if self.latex else f"1 if {z} > 0, else 0"
        return f"({text})" if as_factor else text


LATEX = Notation(latex=True)
PLAIN = Notation(latex=False)


def shown_terms(n: int, rows: int) -> int:
    """How many terms of a sum over n rows to write out: all of them if all rows are shown."""
    return n if n <= rows else min(rows, SUM_TERMS)


def _joined(terms: list[str], n: int, nt: Notation) -> str:
    return " + ".join(terms) + ("" if len(terms) == n else f" + {nt.dots}")


def _hidden_symbol(worked: WorkedEpoch, unit: int) -> str:
    """What hidden unit `unit` (1-based) is linear in w and b: N_h for identity, z_h with an activation."""
    return f"z{unit}" if worked.activated else f"N{unit}"


# --- the equations -----------------------------------------------------------------------


def network_equations(worked: WorkedEpoch, nt: Notation) -> list[str]:
    """The network, symbolically: N1 = w1 x1 + ... + b1 (or tanh(...)), ..., yhat = w7 N1 + ... + b3."""
    lines = []
    for unit, weights, bias in (*hidden_units(worked), output_unit(worked)):
        sources = input_names(worked) if unit != "yhat" else [name for name, _, _ in hidden_units(worked)]
        linear = " + ".join(nt.product(nt.sym(w), nt.sym(s)) for w, s in zip(weights, sources)) + f" + {nt.sym(bias)}"
        if worked.activated and unit != "yhat":
            linear = nt.act(worked.activation, linear)
        lines.append(f"{nt.sym(unit)} = {linear}")
    if worked.activation == "sigmoid":
        lines.append(r"\sigma(z) = \frac{1}{1 + e^{-z}}" if nt.latex else "sigmoid(z) = 1/(1 + exp(-z))")
    return lines


def weight_table(worked: WorkedEpoch, nt: Notation) -> tuple[list[str], list[list[str]]]:
    """(header, body) of the weights at the start: one line per unit, its weights and its bias."""
    w = worked.params.as_dict()
    units = (*hidden_units(worked), output_unit(worked))
    width = max(len(weights) for _, weights, _ in units)
    body = [
        [nt.inline(nt.sym(unit)), *(nt.inline(f"{nt.sym(name)} = {number(w[name])}") for name in weights),
         *([""] * (width - len(weights))), nt.inline(f"{nt.sym(bias)} = {number(w[bias])}")]
        for unit, weights, bias in units
    ]
    return ["unit", *(["weight"] * width), "bias"], body


def forward_equations(worked: WorkedEpoch, row: int, nt: Notation) -> list[str]:
    """z_h (with an activation), N_h, yhat and y - yhat of one row (0-based index), numbers plugged in."""
    w = worked.params.as_dict()
    inputs = input_names(worked)
    x = dict(zip(inputs, worked.X[row]))
    hidden = hidden_units(worked)
    values = {unit: worked.N[row, h] for h, (unit, _, _) in enumerate(hidden)}
    lines = []
    for h, (unit, weights, bias) in enumerate(hidden):
        symbolic = " + ".join(nt.product(nt.sym(wk), nt.sym(s)) for wk, s in zip(weights, inputs))
        numeric = " + ".join(f"{factor(w[wk])}{nt.times}{factor(x[s])}" for wk, s in zip(weights, inputs))
        linear = _hidden_symbol(worked, h + 1)
        lines.append(
            f"{nt.sym(linear)} = {symbolic} + {nt.sym(bias)} = {numeric} + {factor(w[bias])} = {number(worked.Z[row, h])}"
        )
        if worked.activated:
            z = nt.sym(linear)
            lines.append(
                f"{nt.sym(unit)} = {nt.act(worked.activation, z)} = {nt.act(worked.activation, number(worked.Z[row, h]))}"
                f" = {number(values[unit])}"
            )
    unit, weights, bias = output_unit(worked)
    sources = [name for name, _, _ in hidden]
    symbolic = " + ".join(nt.product(nt.sym(wk), nt.sym(s)) for wk, s in zip(weights, sources))
    numeric = " + ".join(f"{factor(w[wk])}{nt.times}{factor(values[s])}" for wk, s in zip(weights, sources))
    lines.append(
        f"{nt.sym(unit)} = {symbolic} + {nt.sym(bias)} = {numeric} + {factor(w[bias])} = {number(worked.yhat[row])}"
    )
    lines.append(
        f"y - {nt.sym('yhat')} = {number(worked.y[row])} - {factor(worked.yhat[row])} = {number(worked.error[row])}"
    )
    return lines


def loss_equation(worked: WorkedEpoch, rows: int, nt: Notation) -> str:
    """L = (1/n) sum (y_i - yhat_i)^2 = (1/n) (e_1^2 + e_2^2 + ...) = value."""
    n = worked.n
    terms = [nt.square(_power_base(e)) for e in worked.error[: shown_terms(n, rows)]]
    inner = _joined(terms, n, nt)
    bracket = rf" \left( {inner} \right)" if nt.latex else f"*({inner})"
    symbolic = f"L = {nt.frac('1', 'n')} {nt.sum_i}(y_i - {nt.sym('yhat', 'i')})^2"
    return f"{symbolic} = {nt.frac('1', str(n))}{bracket} = {number(worked.loss)}"


def output_gradient_equations(worked: WorkedEpoch, rows: int, nt: Notation) -> list[tuple[str, str]]:
    """(name, equation) for the output weights and bias (w7, w8, b3): sums over rows of dL/dyhat_i
    times what yhat_i is linear in."""
    count = shown_terms(worked.n, rows)
    g = worked.gradients.as_dict()
    d = worked.dL_dyhat[:count]
    residual = f"-2 (y_i - {nt.sym('yhat', 'i')})"
    _, weights, bias = output_unit(worked)
    sources = [(name, f"N{h + 1}", worked.N[:, h]) for h, name in enumerate(weights)]
    equations = []
    for name, source, values in (*sources, (bias, None, None)):
        if source is None:
            symbolic = f"{nt.frac('1', 'n')} {nt.sum_i}{residual} = {nt.sum_i}{nt.grad('yhat', 'i')}"
            terms = [factor(a) for a in d]
        else:
            symbolic = (
                f"{nt.frac('1', 'n')} {nt.sum_i}{nt.product(residual, nt.sym(source, 'i'))}"
                f" = {nt.sum_i}{nt.product(nt.grad('yhat', 'i'), nt.sym(source, 'i'))}"
            )
            terms = [f"{factor(a)}{nt.times}{factor(b)}" for a, b in zip(d, values[:count])]
        equations.append((name, f"{nt.grad(name)} = {symbolic} = {_joined(terms, worked.n, nt)} = {number(g[name])}"))
    return equations


def chain_equations(worked: WorkedEpoch, nt: Notation) -> list[str]:
    """dL/dN1_i = dL/dyhat_i * w7, dL/dN2_i = dL/dyhat_i * w8, ...: each output weight plugged in."""
    w = worked.params.as_dict()
    _, weights, _ = output_unit(worked)
    return [
        f"{nt.grad(unit, 'i')} = {nt.product(nt.grad('yhat', 'i'), nt.sym(weight))}"
        f" = {nt.product(nt.grad('yhat', 'i'), factor(w[weight]))}"
        for (unit, _, _), weight in zip(hidden_units(worked), weights)
    ]


def activation_rules(worked: WorkedEpoch, nt: Notation) -> list[str]:
    """With an activation, the chain's extra link for every hidden unit:
    dL/dz1_i = dL/dN1_i * dN1_i/dz1_i = dL/dN1_i * (1 - N1_i^2) for tanh. None for identity."""
    lines = []
    for h in range(1, worked.hidden + 1):
        unit, z = f"N{h}", f"z{h}"
        lines.append(
            f"{nt.grad(z, 'i')} = {nt.product(nt.grad(unit, 'i'), nt.d_of(unit, z, 'i', 'i'))}"
            f" = {nt.product(nt.grad(unit, 'i'), nt.derivative(worked.activation, h, 'i'))}"
        )
    return lines


def activation_equations(worked: WorkedEpoch, row: int, nt: Notation) -> list[str]:
    """dL/dz_h = dL/dN_h * dN_h/dz_h for one row (0-based index) and every hidden unit, numbers plugged in."""
    lines = []
    for h in range(worked.hidden):
        dN, N, z = worked.dL_dN[row, h], worked.N[row, h], worked.Z[row, h]
        slope, dZ = worked.dN_dZ[row, h], worked.dL_dZ[row, h]
        lhs = nt.grad(f"z{h + 1}")
        if worked.activation == "relu":
            relation = ">" if z > 0 else (r"\le" if nt.latex else "<=")
            note = f"{nt.sym(f'z{h + 1}')} = {number(z)} {relation} 0"
            note = rf" \quad ({note})" if nt.latex else f"   ({note})"
            lines.append(f"{lhs} = {factor(dN)}{nt.times}{number(slope)} = {number(dZ)}{note}")
            continue
        if worked.activation == "tanh":
            plugged = f"(1 - {_power_base(N)}^2)"
        else:
            plugged = f"{factor(N)}{nt.times}(1 - {factor(N)})"
        lines.append(f"{lhs} = {factor(dN)}{nt.times}{plugged} = {factor(dN)}{nt.times}{factor(slope)} = {number(dZ)}")
    return lines


def hidden_gradient_equations(worked: WorkedEpoch, rows: int, nt: Notation) -> list[tuple[str, str]]:
    """(name, equation) for the hidden weights and biases (w1..w6, b1, b2): the chain rule,
    sum_i dL/dN_i * dN_i/d(name), with an activation sum_i dL/dN_i * dN_i/dz_i * dz_i/d(name)."""
    count = shown_terms(worked.n, rows)
    g = worked.gradients.as_dict()
    equations = []
    for h, (unit, weights, bias) in enumerate(hidden_units(worked)):
        linear = _hidden_symbol(worked, h + 1)
        dZ = worked.dL_dZ[:count, h]
        for name, j in (*zip(weights, range(worked.k)), (bias, None)):
            if worked.activated:
                links = nt.product(nt.product(nt.grad(unit, 'i'), nt.d_of(unit, linear, 'i', 'i')), nt.d_of(linear, name, 'i'))
            else:
                links = nt.product(nt.grad(unit, 'i'), nt.d_of(unit, name, 'i'))
            chain = f"{nt.sum_i}{links}"
            if j is None:
                rule = f"{nt.sum_i}{nt.product(nt.grad(linear, 'i'), '1')} = {nt.sum_i}{nt.grad(linear, 'i')}"
                terms = [factor(a) for a in dZ]
            else:
                rule = f"{nt.sum_i}{nt.product(nt.grad(linear, 'i'), nt.sym(f'x{j + 1}', 'i'))}"
                terms = [f"{factor(a)}{nt.times}{factor(b)}" for a, b in zip(dZ, worked.X[:count, j])]
            equations.append(
                (name, f"{nt.grad(name)} = {chain} = {rule} = {_joined(terms, worked.n, nt)} = {number(g[name])}")
            )
    return sorted(equations, key=lambda pair: worked.params.names.index(pair[0]))


def update_equations(worked: WorkedEpoch, nt: Notation) -> list[tuple[str, str, str, str]]:
    """(name, rule, arithmetic, new value): w <- w - eta * dL/dw = old - eta * grad = new, every parameter."""
    rows = []
    for name, old, grad, new in zip(
        worked.params.names, worked.params.vector, worked.gradients.vector, worked.new_params.vector
    ):
        rule = f"{nt.sym(name)} {nt.arrow} {nt.sym(name)} - {nt.product(nt.eta, nt.grad(name))}"
        arithmetic = f"{number(old)} - {number(worked.lr)}{nt.times}{factor(grad)}"
        rows.append((name, rule, arithmetic, number(new)))
    return rows


# --- what the rows are -------------------------------------------------------------------


def _listed(numbers) -> str:
    shown = [str(number) for number in numbers[:LISTED_ROWS]]
    return ", ".join(shown) + (", ..." if len(numbers) > LISTED_ROWS else "")


def row_range(worked: WorkedEpoch, shown: int) -> str:
    """Which rows a section shows: 'all 12 rows', 'rows 1 to 5 of 12', 'the first 5 of the batch's 32 rows'."""
    n = worked.n
    if worked.numbered_in_order:
        if shown == n:
            return "the one row" if n == 1 else f"all {n} rows"
        return f"row 1 of {n}" if shown == 1 else f"rows 1 to {shown} of {n}"
    rows = "the batch's" if worked.batch_size is not None else "the"
    if shown == n:
        return "the one row" + (" of the batch" if worked.batch_size is not None else "") if n == 1 else f"all {n} of {rows} rows"
    return f"the first {shown} of {rows} {n} rows"


def setting_notes(worked: WorkedEpoch, features, target: str, nt: Notation) -> list[str]:
    """Sentences on how the rows were prepared and chosen: standardisation, validation, the mini-batch.

    None for the lecture's setting (every row, as it is, one full-batch step).
    """
    notes = []
    if worked.scaling is not None:
        s = worked.scaling
        def column(lecture: str, name: str, mean: float, std: float) -> str:
            named = "" if name == lecture else (f" (`{name}`)" if nt.latex else f" ({name})")
            return f"{nt.inline(nt.sym(lecture))}{named} mean {number(mean)}, std {number(std)}"

        columns = [column(*values) for values in zip(input_names(worked), features, s.x_mean, s.x_std)]
        columns.append(column("y", target, s.y_mean, s.y_std))
        notes.append(
            "Standardised, as train --standardize does: every column is replaced by its z-score, (value - mean) / std, "
            "with the mean and the population standard deviation of the training rows, so every number below is "
            "in these units: " + "; ".join(columns) + "."
        )
    if worked.validation_rows:
        notes.append(
            f"{worked.validation_rows} rows are held out for validation (--val-split, as train chooses them) and take no "
            f"part in the step; rows are numbered as in the data file."
        )
    if worked.batch_size is not None:
        steps = -(-worked.n_train // worked.batch_size)
        notes.append(
            f"Mini-batches (--batch-size {worked.batch_size}): every epoch visits the {worked.n_train} training rows in a "
            f"new shuffled order, the one train draws, and takes one step per batch, {steps} an epoch. This is the "
            f"first step of epoch {worked.epoch}, on its first batch: data rows {_listed(worked.row_numbers.tolist())}, in "
            f"the order drawn. Below, {nt.inline(f'n = {worked.n}')} is the batch's size, and the loss, the gradients, "
            "the update and the loss after it are this batch's."
        )
    return notes


def data_phrase(worked: WorkedEpoch, source: str | None, nt: Notation) -> str:
    """The rows the step works on, for the opening line: '`data.csv` ($n = 12$ rows)' after
    "network on" in markdown, 'data.csv (12 rows)' after "data" in plain text, ..."""
    n = worked.n
    count = nt.inline(f"n = {n}") + f" row{'s' if n != 1 else ''}" if nt.latex else f"{n} row{'s' if n != 1 else ''}"
    where = (f"`{source}`" if nt.latex else source) if source else None
    if worked.scaling is None and worked.validation_rows == 0 and worked.batch_size is None:
        return f"{where} ({count})" if where else count
    kind = ("standardised " if worked.scaling is not None else "") + ("training rows" if worked.validation_rows else "rows")
    if nt.latex or not where:
        the, of, lead = "the", f" of {where}" if where else "", ""
    else:
        the, of, lead = "its", "", f"{where}: "
    if worked.batch_size is not None:
        return f"{lead}the first mini-batch of epoch {worked.epoch} ({count}), drawn from {the} {worked.n_train} {kind}{of}"
    return f"{lead}{the} {kind}{of} ({count})"


def loss_verdict(worked: WorkedEpoch) -> str:
    """What the step did to the loss: went down, did not go down, or changed only within rounding
    (16 eps of the loss, float64's resolution), as it does at a minimum."""
    change = worked.loss_after - worked.loss
    if abs(change) <= ROUNDING * max(abs(worked.loss), abs(worked.loss_after)):
        return f"did not change beyond float64's rounding of it (the change, {number(change)}, is noise): a minimum"
    return "went down" if change < 0 else "did not go down: try a smaller learning rate"


# --- the documents -----------------------------------------------------------------------


def explain_document(worked: WorkedEpoch, features, target: str = "y") -> dict:
    """Every value of the worked epoch as JSON-ready data, floats at full precision.

    "rows" holds every row of the step (not only those a table shows): x1..xk are the
    lecture's names for the columns in "features"; "row" is the row's number in the data
    file. z1..zH, dN1_dz1.. and dL_dz1.. are there when the hidden layer has an activation.
    """
    h = worked.hidden
    units = range(1, h + 1)
    keys = ["row", *input_names(worked), "y"]
    blocks = [worked.row_numbers, worked.X, worked.y]
    if worked.activated:
        keys += [f"z{u}" for u in units]
        blocks.append(worked.Z)
    keys += [*(f"N{u}" for u in units), "yhat", "error", "dL_dyhat", *(f"dL_dN{u}" for u in units)]
    blocks += [worked.N, worked.yhat, worked.error, worked.dL_dyhat, worked.dL_dN]
    if worked.activated:
        keys += [*(f"dN{u}_dz{u}" for u in units), *(f"dL_dz{u}" for u in units)]
        blocks += [worked.dN_dZ, worked.dL_dZ]
    columns = np.column_stack(blocks)
    rows = [dict(zip(keys, values)) for values in columns.tolist()]
    for row in rows:
        row["row"] = int(row["row"])
    scaling = None if worked.scaling is None else worked.scaling.as_dict(tuple(features), target)
    batch = None
    if worked.batch_size is not None:
        batch = {"size": worked.batch_size, "rows": worked.row_numbers.tolist(), "first_of_epoch": worked.epoch}
    return {
        "epoch": worked.epoch,
        "lr": worked.lr,
        "n": worked.n,
        "features": list(features),
        "target": target,
        "activation": worked.activation,
        "hidden": h,
        "standardized": worked.scaling is not None,
        "scaling": scaling,
        "training_rows": worked.n_train,
        "validation_rows": worked.validation_rows,
        "batch": batch,
        "weights": worked.params.as_dict(),
        "rows": rows,
        "loss": worked.loss,
        "gradients": worked.gradients.as_dict(),
        "weights_after": worked.new_params.as_dict(),
        "loss_after": worked.loss_after,
    }


def _m(text: str) -> str:
    """Inline math."""
    return f"${text}$"


def _display(text: str) -> str:
    """Display math, on one line so that every renderer reads it."""
    return f"$${text}$$"


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return lines


def explain_markdown(
    worked: WorkedEpoch, features, rows: int, target: str = "y", source: str | None = None, start: str | None = None
) -> str:
    """The worked epoch as a markdown document with LaTeX equations: lecture notes with the user's numbers.

    `rows` rows are shown in the forward pass; every sum runs over all rows of the step.
    `source` (the data's name) and `start` (where the weights came from) go into the opening line.
    """
    nt = LATEX
    n = worked.n
    shown = min(rows, n)
    count = shown_terms(n, rows)
    inputs = input_names(worked)
    hidden = range(1, worked.hidden + 1)
    label = [str(r) for r in worked.row_numbers.tolist()]

    start_note = f", initial weights {start}" if start else ""
    before = "" if worked.epoch == 1 else f" (after {worked.epoch - 1} epoch{'s' if worked.epoch > 2 else ''} of training"
    if before and worked.batch_size is not None:
        before += f", in mini-batches of {worked.batch_size} rows"
    before += ")" if before else ""
    out = [f"# Epoch {worked.epoch} of forward and backward propagation, worked by hand", ""]
    out += [
        f"{network_description(worked)} on {data_phrase(worked, source, nt)}, learning rate $\\eta = {number(worked.lr)}${start_note}.",
        "",
    ]
    if tuple(features) != inputs or target != "y":
        mapping = ", ".join(f"{_m(nt.sym(lecture))} is column `{column}`" for lecture, column in zip(inputs, features))
        out += [f"{mapping}; $y$ is column `{target}`.", ""]
    for note in setting_notes(worked, features, target, nt):
        out += [note, ""]
    out += [_display(r", \quad ".join(network_equations(worked, nt))), ""]
    if worked.activated:
        z, N = nt.sym("zh"), nt.sym("Nh")
        activated = _m(f"{N} = {nt.act(worked.activation, z)}")
        slope = _m(f"{nt.d_of('Nh', 'zh')} = {nt.derivative(worked.activation, 'h', as_factor=False)}")
        out += [
            f"The hidden units apply {worked.activation}: {_m(z)} is what goes into unit $h$ and {activated} what "
            f"comes out; the backward pass gains the activation's slope {slope}.",
            "",
        ]
    out += [f"## The weights at the start of epoch {worked.epoch}{before}", ""]
    out += _md_table(*weight_table(worked, nt))

    out += ["", "## 1. Forward pass", ""]
    note = "" if shown == n else f" (the loss and the gradients below use all {n})"
    out += [f"Shown for {row_range(worked, shown)}{note}.", ""]
    for row in range(shown):
        values = ", ".join(_m(f"{nt.sym(s)} = {number(v)}") for s, v in zip(inputs, worked.X[row]))
        out += [f"**Row {label[row]}:** {values}, {_m(f'y = {number(worked.y[row])}')}", ""]
        for equation in forward_equations(worked, row, nt):
            out += [_display(equation), ""]
    z_columns = [_m(nt.sym(f"z{h}")) for h in hidden] if worked.activated else []
    header = ["row", *(_m(nt.sym(s)) for s in inputs), "$y$", *z_columns, *(_m(nt.sym(f"N{h}")) for h in hidden),
              _m(nt.sym("yhat")), _m(r"y - \hat{y}")]
    body = [
        [label[row], *(number(v) for v in worked.X[row]), number(worked.y[row]),
         *(number(v) for v in (worked.Z[row] if worked.activated else [])), *(number(v) for v in worked.N[row]),
         number(worked.yhat[row]), number(worked.error[row])]
        for row in range(shown)
    ]
    out += ["All shown rows at a glance:", ""]
    out += _md_table(header, body)

    out += ["", "## 2. Loss", ""]
    if count < n:
        out += [f"This sum and those below run over all $n = {n}$ rows; the first {count} terms are written out.", ""]
    out += [_display(loss_equation(worked, rows, nt)), ""]

    out += ["## 3. Backward pass: the output layer", ""]
    out += [_display(rf"{nt.grad('yhat', 'i')} = -\frac{{2}}{{n}} (y_i - \hat{{y}}_i) = -\frac{{2}}{{{n}}} (y_i - \hat{{y}}_i)"), ""]
    body = [[label[row], number(worked.error[row]), number(worked.dL_dyhat[row])] for row in range(shown)]
    out += _md_table(["row", _m(r"y_i - \hat{y}_i"), _m(nt.grad("yhat", "i"))], body)
    out += [""]
    for _, equation in output_gradient_equations(worked, rows, nt):
        out += [_display(equation), ""]

    out += ["## 4. Backward pass: the hidden layer, by the chain rule", ""]
    for equation in chain_equations(worked, nt):
        out += [_display(equation), ""]
    if worked.activated:
        out += [f"Through the activation, {worked.activation}, the chain gains the factor {_m(nt.d_of('Nh', 'zh'))} for every unit:", ""]
        for equation in activation_rules(worked, nt):
            out += [_display(equation), ""]
        for row in range(shown):
            out += [f"**Row {label[row]}:**", ""]
            for equation in activation_equations(worked, row, nt):
                out += [_display(equation), ""]
    dz_columns = [_m(nt.grad(f"z{h}", "i")) for h in hidden] if worked.activated else []
    body = [
        [label[row], number(worked.dL_dyhat[row]), *(number(v) for v in worked.dL_dN[row]),
         *(number(v) for v in (worked.dL_dZ[row] if worked.activated else []))]
        for row in range(shown)
    ]
    out += _md_table(["row", _m(nt.grad("yhat", "i")), *(_m(nt.grad(f"N{h}", "i")) for h in hidden), *dz_columns], body)
    out += [""]
    for _, equation in hidden_gradient_equations(worked, rows, nt):
        out += [_display(equation), ""]

    size = len(worked.params.names)
    step = "" if worked.batch_size is None else f" (the first of epoch {worked.epoch}'s steps, on this batch)"
    out += [f"## 5. Update: one gradient-descent step for all {size} parameters{step}", ""]
    for _, rule, arithmetic, new in update_equations(worked, nt):
        out += [_display(f"{rule} = {arithmetic} = {new}"), ""]

    out += ["## 6. The loss after the update", ""]
    if worked.batch_size is not None:
        out += [f"On the same {n} rows of the batch.", ""]
    change = worked.loss_after - worked.loss
    out += [
        _display(
            rf"L_{{\text{{before}}}} = {number(worked.loss)}, \quad L_{{\text{{after}}}} = {number(worked.loss_after)},"
            rf" \quad L_{{\text{{after}}}} - L_{{\text{{before}}}} = {number(change)}"
        ),
        "",
    ]
    out += [f"The loss {loss_verdict(worked)}.", ""]
    return "\n".join(out)
