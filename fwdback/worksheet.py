"""One epoch as an exercise: every quantity a student works out by hand, each with its formula.

A quantity is named as the lecture writes it, row i in brackets: "z1[2]", "N1[2]", "yhat[2]",
"L", "dL/dyhat[2]", "dL/dw7", "dL/dN1[2]", "dL/dz1[2]", "dL/dw1", "w1'". Its formula is written in
its UPSTREAM quantities only (N1[1] = w1*x1[1] + w2*x2[1] + w3*x3[1] + b1; dL/dw1 = dL/dN1[1]*x1[1]
+ ...; w1' = w1 - eta*dL/dw1), so that it can be evaluated again from anyone's own upstream
values: a student's answers, to credit a step done right after an earlier slip (grading), or
values rounded as a student writes them (the key's `rounded`). The formula text is the one
declaration: it is shown on the sheet and key, and `evaluate` computes it; the names it uses are
its dependencies.

The exact values are network.py's (forward, loss, backward, a gradient-descent update); the
formulas evaluated on exact values give them again (tests check it). The update is plain
gradient descent, w' = w - eta * dL/dw, over all rows at once: one full-batch epoch.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np

from .activations import ACTIVATIONS
from .losses import LOSSES
from .network import Parameters, as_rows, backward, forward, loss, output_symbols, update
from .notation import Sym

# What a sheet can ask, in the order a student works them out.
KINDS = ("forward", "loss", "output-gradients", "hidden-gradients", "updates")
# The significant digits a key without hand rounding expects an answer to (its tolerance is half a unit in the last).
ANSWER_DIGITS = 3
# The rows a sheet works on unless told: a data file's first few drawn by the seed, all of a smaller one.
DEFAULT_ROWS = 4

_NAME = re.compile(r"(?:dL/d)?[A-Za-z]+\d*(?:\[\d+\])?'?")
# The activations a formula calls by name (tanh(z1[1]), sigmoid(a[1]); relu is written max(0, z1[1])
# and softmax with exp), each computed by its registry's function.
_CALLED = {activation.plain.removesuffix("({})"): activation for activation in ACTIVATIONS.values()
           if activation.plain.endswith("({})") and not activation.across_outputs}
_FUNCTIONS = {"exp": math.exp, "log": math.log, "max": max} | {
    name: lambda z, activation=activation: float(activation.function(np.float64(z))) for name, activation in _CALLED.items()}
_KEYWORDS = frozenset(_FUNCTIONS) | {"if", "else"}
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd,
          ast.Constant, ast.Name, ast.Load, ast.Call, ast.IfExp, ast.Compare, ast.Gt)


class FormulaError(ValueError):
    """A formula that is not one of the worksheet's arithmetic (a key edited by hand)."""


def dependencies(formula: str) -> tuple[str, ...]:
    """The quantities a formula uses, in the order it first uses them."""
    names = (match.group() for match in _NAME.finditer(formula))
    return tuple(dict.fromkeys(name for name in names if name not in _KEYWORDS))


@functools.lru_cache(maxsize=None)
def _parsed(formula: str, by_hand: bool):
    """The formula's code, its quantities the names v0, v1, ... (`names`, one an occurrence) and, `by_hand`,
    its own numbers the names c0, c1, ... (`constants`, their Decimal values): parsed and checked once per
    formula, however often it is evaluated (grading works a formula again for every answer and every slip)."""
    names: list[str] = []

    def placeholder(match):
        name = match.group()
        if name in _KEYWORDS:
            return name
        names.append(name)
        return f"v{len(names) - 1}"

    source = _NAME.sub(placeholder, formula).replace("^", "**").replace(", else", " else")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise FormulaError(f"{formula!r} is not a formula") from None
    for node in ast.walk(tree):
        if not isinstance(node, _NODES) or isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
            raise FormulaError(f"{formula!r} uses something other than + - * / ^, {', '.join(_FUNCTIONS)}")
    constants = _Constants()
    if by_hand:  # every number a Decimal, the formula's own (2/n) as well as the quantities
        tree = constants.visit(tree)
    return compile(ast.fix_missing_locations(tree), "<formula>", "eval"), tuple(names), constants.values


def _compiled(formula: str, values: dict, by_hand: bool = False):
    """The formula's code (_parsed) and its scope: its quantities' values from `values`; `by_hand`: every
    number (theirs and the formula's own) as a Decimal."""
    code, names, constants = _parsed(formula, by_hand)
    missing = [name for name in names if name not in values]
    if missing:
        raise FormulaError(f"{formula!r} needs {missing[0]}")
    scope = {f"v{index}": values[name] for index, name in enumerate(names)}
    if by_hand:
        scope = {name: Decimal(repr(float(value))) for name, value in scope.items()} | constants
    return code, scope


class _Constants(ast.NodeTransformer):
    """The formula's numbers as the names c0, c1, ..., their Decimal values in `values`."""

    def __init__(self):
        self.values: dict[str, Decimal] = {}

    def visit_Constant(self, node):
        name = f"c{len(self.values)}"
        self.values[name] = Decimal(repr(node.value))
        return ast.copy_location(ast.Name(name, ast.Load()), node)


def evaluate(formula: str, values: dict[str, float]) -> float:
    """The formula's value in float64 with its quantities taken from `values` (name -> number); nan where
    it is not defined (the log of 0)."""
    code, scope = _compiled(formula, values)
    try:
        return float(eval(code, {"__builtins__": {}}, _FUNCTIONS | scope))
    except (ArithmeticError, ValueError):
        return math.nan


# By hand, exp and log to the 40 digits of the decimal context; an activation as a calculator gives it,
# float64's value written out (17 digits: far more than any rounding a sheet asks for).
_DECIMAL_FUNCTIONS = {"exp": Decimal.exp, "log": Decimal.ln, "max": max} | {
    name: lambda z, function=function: Decimal(repr(function(float(z)))) for name, function in _FUNCTIONS.items()
    if name in _CALLED}


def evaluate_by_hand(formula: str, values: dict[str, float]) -> Decimal:
    """The formula's value in decimal arithmetic of 40 digits, its quantities taken as written (the
    shortest decimal of each float): as a student works it, so that 0.16*0.35 + ... lands on 0.3445
    exactly and rounds half up as they round it."""
    code, scope = _compiled(formula, values, by_hand=True)
    with localcontext() as context:
        context.prec = 40
        try:
            return eval(code, {"__builtins__": {}}, _DECIMAL_FUNCTIONS | scope)
        except ArithmeticError:  # decimal's InvalidOperation and DivisionByZero: the log of 0
            return Decimal("NaN")


def round_significant(value: float | Decimal, digits: int) -> float:
    """value rounded to `digits` significant digits, half up, as a student writes it (0.08805 -> 0.0881 at 3);
    a float is taken as its shortest decimal."""
    written = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if written == 0 or not written.is_finite():
        return float(written)
    return float(written.quantize(Decimal(1).scaleb(written.adjusted() - digits + 1), rounding=ROUND_HALF_UP))


def half_unit(value: float, digits: int) -> float:
    """Half a unit in the last of `digits` significant digits of value: what writing it rounded may move it by."""
    if value == 0 or not math.isfinite(value):
        return 0.5 * 10.0 ** -digits
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)


@dataclass(frozen=True)
class Quantity:
    """One line of the key. `kind` is "given" (data, weights, eta: printed on the sheet) or one of KINDS;
    `formula` is "" for a given. `rounded` is the value computed from every upstream value rounded to
    the sheet's digits (None without rounding); `tolerance` accepts the exact and the rounded value."""

    name: str
    kind: str
    formula: str
    value: float
    rounded: float | None
    tolerance: float

    @property
    def depends_on(self) -> tuple[str, ...]:
        return dependencies(self.formula)


def _sum(terms) -> str:
    return " + ".join(terms)


def _layout(params: Parameters, n: int, convention: str) -> list[tuple[str, str, str, str, tuple]]:
    """(name, kind, formula, network.py's array, index) of every quantity, in the order they are worked out.
    The array is named as an attribute of `_arrays`' mapping: "Z", "N", "A", "Yhat", "loss", "dL_dYhat", "dL_dA",
    "dL_dN", "dL_dZ", "gradients", "new"."""
    act, out, spec = ACTIVATIONS[params.activation], ACTIVATIONS[params.output_activation], LOSSES[convention]
    H, m, k = params.n_hidden, params.n_outputs, params.n_inputs
    W_hidden, W_out, b_hidden, b_outputs = params.name_layers
    yhat = output_symbols(m)
    targets = ["y"] if m == 1 else [f"y{j}" for j in range(1, m + 1)]
    into = [f"a{'' if m == 1 else j + 1}" for j in range(m)] if params.out_activated else list(yhat)
    hidden_in = [f"z{h + 1}" if params.activated else f"N{h + 1}" for h in range(H)]
    rows = range(1, n + 1)
    lines = []

    def plus_bias(terms, bias):
        return _sum(terms + ([bias] if bias else []))

    position = {name: index for index, name in enumerate(params.names)}

    def layer_gradients(W, b, into, inputs, kind):
        """dL/dw = sum_i dL/d(into_j)_i * (input l)_i for each weight of a layer whose names are W, shape
        (units, inputs), and dL/db = sum_i dL/d(into_j)_i for each bias in b; `inputs` names the inputs (x or N)."""
        for j in range(len(W)):
            for l in range(W.shape[1]):
                formula = _sum(f"dL/d{into[j]}[{i}]*{inputs}{l + 1}[{i}]" for i in rows)
                lines.append((f"dL/d{W[j, l]}", kind, formula, "gradients", (position[W[j, l]],)))
            if b[j]:
                formula = _sum(f"dL/d{into[j]}[{i}]" for i in rows)
                lines.append((f"dL/d{b[j]}", kind, formula, "gradients", (position[b[j]],)))

    for i in rows:
        for h in range(H):
            formula = plus_bias([f"{W_hidden[h, l]}*x{l + 1}[{i}]" for l in range(k)], b_hidden[h])
            lines.append((f"{hidden_in[h]}[{i}]", "forward", formula, "Z", (h, i - 1)))
            if params.activated:
                lines.append((f"N{h + 1}[{i}]", "forward", act.written("plain", f"z{h + 1}[{i}]"), "N", (h, i - 1)))
        for j in range(m):
            formula = plus_bias([f"{W_out[j, h]}*N{h + 1}[{i}]" for h in range(H)], b_outputs[j])
            lines.append((f"{into[j]}[{i}]", "forward", formula, "A", (j, i - 1)))
        if out.across_outputs:
            total = _sum(f"exp({into[l]}[{i}])" for l in range(m))
            lines += [(f"{yhat[j]}[{i}]", "forward", f"exp({into[j]}[{i}])/({total})", "Yhat", (j, i - 1)) for j in range(m)]
        elif params.out_activated:
            lines += [(f"{yhat[j]}[{i}]", "forward", out.written("plain", f"{into[j]}[{i}]"), "Yhat", (j, i - 1))
                      for j in range(m)]
    divisor = int(spec.divisor(n))
    over = "" if divisor == 1 else f"/{divisor}"
    if spec.binary:
        terms = [f"{targets[0]}[{i}]*log({yhat[0]}[{i}]) + (1 - {targets[0]}[{i}])*log(1 - {yhat[0]}[{i}])" for i in rows]
        lines.append(("L", "loss", f"-({_sum(terms)}){over}", "loss", ()))
    elif spec.classifies:
        terms = [f"{targets[j]}[{i}]*log({yhat[j]}[{i}])" for i in rows for j in range(m)]
        lines.append(("L", "loss", f"-({_sum(terms)}){over}", "loss", ()))
    else:
        terms = [f"({targets[j]}[{i}] - {yhat[j]}[{i}])^2" for i in rows for j in range(m)]
        lines.append(("L", "loss", f"({_sum(terms)}){over}", "loss", ()))
    for i in rows:
        for j in range(m):
            if spec.classifies:
                lines.append((f"dL/d{into[j]}[{i}]", "output-gradients", f"({yhat[j]}[{i}] - {targets[j]}[{i}]){over}",
                              "dL_dA", (j, i - 1)))
                continue
            lines.append((f"dL/d{yhat[j]}[{i}]", "output-gradients", f"-2{over}*({targets[j]}[{i}] - {yhat[j]}[{i}])",
                          "dL_dYhat", (j, i - 1)))
            if params.out_activated:
                slope = out.slope(Sym(f"{yhat[j]}[{i}]"), Sym(f"{into[j]}[{i}]")).plain()
                lines.append((f"dL/d{into[j]}[{i}]", "output-gradients", f"dL/d{yhat[j]}[{i}]*({slope})", "dL_dA", (j, i - 1)))
    layer_gradients(W_out, b_outputs, into, "N", "output-gradients")
    for i in rows:
        for h in range(H):
            formula = _sum(f"{W_out[j, h]}*dL/d{into[j]}[{i}]" for j in range(m))
            lines.append((f"dL/dN{h + 1}[{i}]", "hidden-gradients", formula, "dL_dN", (h, i - 1)))
            if params.activated:
                slope = act.slope(Sym(f"N{h + 1}[{i}]"), Sym(f"z{h + 1}[{i}]")).plain()
                lines.append((f"dL/dz{h + 1}[{i}]", "hidden-gradients", f"dL/dN{h + 1}[{i}]*({slope})", "dL_dZ", (h, i - 1)))
    layer_gradients(W_hidden, b_hidden, hidden_in, "x", "hidden-gradients")
    lines += [(f"{name}'", "updates", f"{name} - eta*dL/d{name}", "new", (index,)) for index, name in enumerate(params.names)]
    return lines


def givens(params: Parameters, X: np.ndarray, y: np.ndarray, lr: float) -> dict[str, float]:
    """What the sheet states: each row's inputs and targets ("x1[1]", "y[1]"), the weights and eta.
    X : shape (n, k), y : shape (n,) or (n, m) (a classifier's as 0/1 or one-hot)."""
    Y = as_rows(y)
    targets = ["y"] if len(Y) == 1 else [f"y{j}" for j in range(1, len(Y) + 1)]
    values = {f"x{l + 1}[{i + 1}]": float(X[i, l]) for i in range(len(X)) for l in range(X.shape[1])}
    values |= {f"{targets[j]}[{i + 1}]": float(Y[j, i]) for i in range(len(X)) for j in range(len(Y))}
    return values | params.as_dict() | {"eta": float(lr)}


def worksheet(params: Parameters, X: np.ndarray, y: np.ndarray, lr: float, convention: str = "mse",
              digits: int | None = None, tolerance_digits: int = ANSWER_DIGITS) -> list[Quantity]:
    """Every quantity of one full-batch gradient-descent epoch from `params` on the rows X : shape (n, k),
    y : shape (n,) or (n, m), the givens first. With `digits`, each computed quantity is also worked
    out from upstream values rounded to `digits` significant digits (`rounded`); its tolerance is
    the gap between exact and rounded plus half a unit in the last written digit (`digits`, else
    `tolerance_digits`, and for an updated weight w' no more than its step w - w' written to
    `tolerance_digits`: a step of 2e-4 on w = 0.15 needs w' = 0.149781, not 0.150)."""
    with np.errstate(all="ignore"):
        fwd = forward(params, X)
        back = backward(params, X, y, fwd, convention)
        arrays = {"Z": fwd.Z, "N": fwd.N, "A": fwd.A, "Yhat": fwd.Yhat, "loss": loss(y, fwd, convention),
                  "dL_dYhat": back.dL_dYhat, "dL_dA": back.dL_dA, "dL_dN": back.dL_dN, "dL_dZ": back.dL_dZ,
                  "gradients": back.gradients.vector, "new": update(params, back.gradients, lr).vector}
    given = givens(params, X, y, lr)
    quantities = [Quantity(name, "given", "", value, None, 0.0) for name, value in given.items()]
    written = dict(given)
    for name, kind, formula, array, index in _layout(params, len(X), convention):
        value = float(np.asarray(arrays[array])[index])
        rounded = None if digits is None else round_significant(evaluate_by_hand(formula, written), digits)
        if rounded is not None:
            written[name] = rounded
        if rounded is not None:
            tolerance = abs(value - rounded) + half_unit(rounded, digits)
        elif kind == "updates":  # w' to the digits that show its step w - w' to `tolerance_digits`
            tolerance = min(half_unit(value, tolerance_digits), half_unit(value - given[name[:-1]], tolerance_digits))
        else:
            tolerance = half_unit(value, tolerance_digits)
        quantities.append(Quantity(name, kind, formula, value, rounded, tolerance))
    return quantities


def is_asked(quantity: Quantity, asked: tuple[str, ...]) -> bool:
    """Whether a sheet that asks `asked` (kinds of quantity, KINDS, and quantities by name) asks this quantity."""
    return quantity.kind in asked or quantity.name in asked


@dataclass(frozen=True)
class Dullness:
    """Why a draw teaches little: `why`, what draws passed over alike share ("a zero gradient"), and `detail`,
    this draw's instance of it ("dL/dw1 is 0")."""

    why: str
    detail: str


def dull(quantities: list[Quantity], params: Parameters, asked: tuple[str, ...] = KINDS) -> Dullness | None:
    """Why an exercise that asks `asked` teaches little, or None: a layer whose weights are all 0, a relu
    unit dead on every row (no gradient flows through it), an asked gradient of zero, a number with
    more than 4 digits before the point, or an asked update smaller than the precision the key
    accepts (|w' - w| within w''s tolerance: a step the student cannot show)."""
    given = {q.name: q.value for q in quantities if q.kind == "given"}
    for layer in params.name_layers[:2]:
        if all(given[name] == 0 for name in np.ravel(layer)):
            return Dullness("a layer's weights all 0", f"{', '.join(np.ravel(layer))} are all 0")
    if ACTIVATIONS[params.activation].kink:
        for h in range(1, params.n_hidden + 1):
            inputs = [q.value for q in quantities if q.name.startswith(f"z{h}[")]
            if inputs and max(inputs) <= 0:
                return Dullness("a dead relu unit", f"hidden unit {h} is dead (z{h} <= 0 on every row)")
    for quantity in quantities:
        if quantity.rounded is not None and not math.isfinite(quantity.rounded):
            return Dullness("a value not defined once rounded", f"{quantity.name} is not defined once the values before it are rounded")
        if abs(quantity.value) >= 1e4:
            return Dullness("a number of over 4 digits",
                            f"{quantity.name} = {quantity.value:.6g} has more than 4 digits before the point")
        if not is_asked(quantity, asked):
            continue
        if quantity.name.startswith("dL/d") and "[" not in quantity.name and quantity.value == 0:
            return Dullness("a zero gradient", f"{quantity.name} is 0")
        if quantity.kind == "updates" and abs(quantity.value - given[quantity.name[:-1]]) <= quantity.tolerance:
            return Dullness("a step under the sheet's precision",
                            f"{quantity.name} = {quantity.value:.6g} is within its tolerance {quantity.tolerance:.2g} of "
                            f"{quantity.name[:-1]} = {given[quantity.name[:-1]]:.6g}")
    return None


@dataclass(frozen=True)
class Exercise:
    """One variant: the seed that draws it, its rows (row_numbers : shape (n,), 1-based in the data
    file; X : shape (n, k), y : shape (n,) or (n, m)), starting weights, eta, loss, and its worksheet.
    `asked`: what the sheet asks for: kinds of quantity (KINDS) and quantities by name ("dL/dw1").
    `decimals`: the decimal places its weights and rows were rounded to (None: not rounded).
    `passed_over`: the seeds tried just before this one, each with why its draw was dull."""

    seed: int
    row_numbers: np.ndarray
    params: Parameters
    lr: float
    convention: str
    digits: int | None
    quantities: list[Quantity]
    asked: tuple[str, ...]
    decimals: int | None = None
    passed_over: tuple[tuple[int, Dullness], ...] = ()

    def is_asked(self, quantity: Quantity) -> bool:
        return is_asked(quantity, self.asked)

    @property
    def questions(self) -> list[Quantity]:
        return [quantity for quantity in self.quantities if self.is_asked(quantity)]

    def key(self) -> list[dict]:
        """The key as fwdback grade reads it: every quantity, the givens first, with its formula."""
        return [{"quantity": q.name, "value": q.value, "rounded": q.rounded, "tolerance": q.tolerance,
                 "formula": q.formula, "depends_on": list(q.depends_on), "kind": q.kind, "asked": self.is_asked(q)}
                for q in self.quantities]


# How many seeds past the last variant's are tried before dull draws are given up.
EXTRA_SEEDS = 100


def exercises(X: np.ndarray, y: np.ndarray, architecture, convention: str, lr: float, variants: int, seed: int,
              rows: int | None = None, decimals: int | None = 2, digits: int | None = None,
              asked: tuple[str, ...] = KINDS, initial: Parameters | None = None) -> list[Exercise]:
    """`variants` exercises on the rows X : shape (n, k), y : shape (n,) or (n, m), drawn by the seeds
    seed, seed + 1, ... that give a lively one (dull says why a draw is not), so that each variant's
    own seed, with --variants 1, draws it again. A seed draws the initial weights (network.init_parameters)
    and, with `rows`, that many of the data's rows (in the file's order; TooManyRows where the data has
    fewer); `decimals` rounds the weights, and the chosen rows' inputs and (a regressor's) targets,
    to that many decimal places: short numbers to work with. `digits`: the key's hand rounding
    (worksheet). A classifier's draw whose rows are all of one class is dull where the data has more.
    `initial`: the starting weights of every variant (a textbook's, from --init), so that a seed draws
    the rows alone."""
    from .network import init_parameters

    if rows is not None and rows > len(X):
        from .errors import TooManyRows

        raise TooManyRows(rows, len(X))
    chosen, tried, reason, passed_over, whys = [], 0, "", [], {}
    classifies = LOSSES[convention].classifies
    classes = len(np.unique(y, axis=0)) if classifies else 0
    candidate = seed
    while len(chosen) < variants:
        if tried >= variants + EXTRA_SEEDS:
            from .errors import NoLivelyVariant

            raise NoLivelyVariant(seed, tried, whys, reason)
        rng = np.random.default_rng(candidate)
        params = initial if initial is not None else init_parameters(
            rng, architecture.n_inputs, architecture.n_hidden, architecture.activation, n_outputs=architecture.n_outputs,
            output_activation=architecture.output_activation, bias=architecture.bias)
        picked = np.arange(len(X)) if rows is None or rows >= len(X) else np.sort(rng.choice(len(X), rows, replace=False))
        X_v, y_v = X[picked], y[picked]
        if decimals is not None:  # + 0.0: a number rounded to zero is 0, never -0.0
            params = params.like(np.round(params.vector, decimals) + 0.0)
            X_v = np.round(X_v, decimals) + 0.0
            y_v = y_v if classifies else np.round(y_v, decimals) + 0.0
        quantities = worksheet(params, X_v, y_v, lr, convention, digits)
        unknown = [name for name in asked if name not in KINDS and name not in {q.name for q in quantities if q.kind != "given"}]
        if unknown:
            from .errors import UnknownQuantity

            raise UnknownQuantity(unknown[0], next(q.name for q in reversed(quantities) if q.kind == "hidden-gradients"), KINDS)
        dullness = dull(quantities, params, asked)
        if dullness is None and classes > 1 and len(np.unique(y_v, axis=0)) == 1:
            dullness = Dullness("one class", "the rows drawn are all of one class")
        if dullness is None:
            chosen.append(Exercise(candidate, picked + 1, params, lr, convention, digits, quantities, asked, decimals,
                                   tuple(passed_over)))
            passed_over = []
        else:
            passed_over.append((candidate, dullness))
            whys[dullness.why] = whys.get(dullness.why, 0) + 1
            reason = dullness.detail
        candidate, tried = candidate + 1, tried + 1
    return chosen
