"""The lecture's notation as data: symbols, numbers and operations that render as plain text or LaTeX.

An equation of `explain` is built once, as a tree of these expressions, and each view renders
it its own way: `plain` for the terminal (dL/dw1 = sum_i dL/dN1_i*x1_i), `latex` for Markdown
(\\frac{\\partial L}{\\partial w_1} = \\sum_{i=1}^{n} ...). A renderer of the tree can also
break a long equation between its terms, where a string could only be cut anywhere.

Numbers are written by `number` alone (and counts, of epochs say, by `count`): 6 significant digits, plain or in e-notation
(1.23457e-05), never `x 10^k`, so a reader can copy them. A negative number plugged into an
expression is put in parentheses (0.5 - 0.1 * (-0.2)); one that stands alone is not.
"""

from __future__ import annotations

from dataclasses import dataclass


def count(value: int) -> str:
    """A whole number as a person reads it, thousands separated: an epoch or a number of epochs,
    67,740 of 300,000, alike in every message, table and progress bar (flags' values stay plain)."""
    return f"{int(value):,}"


def number(value: float) -> str:
    """6 significant digits, plain or e-notation (1.23457e-05): never `x 10^k`, always copyable."""
    text = f"{float(value):.6g}"
    return "0" if text == "-0" else text


class Expr:
    """A piece of notation. plain() and latex() render it; `alone` says it stands by itself (a
    side of an equation, an argument), where a negative number needs no parentheses."""

    def plain(self, alone: bool = False) -> str:
        raise NotImplementedError

    def latex(self, alone: bool = False) -> str:
        raise NotImplementedError

    def mathml(self, alone: bool = False) -> str:
        """Presentation MathML (the elements inside <math>), which browsers draw natively."""
        raise NotImplementedError


# Greek letters by their plain names: (LaTeX, MathML).
GREEK = {"eta": (r"\eta", "η"), "mu": (r"\mu", "μ"), "beta": (r"\beta", "β"), "epsilon": (r"\epsilon", "ε"), "delta": (r"\delta", "δ")}
_YHAT_MATHML = '<mover accent="true"><mi>y</mi><mo>^</mo></mover>'


def _base_and_subscript(name: str) -> tuple[str, str, str]:
    """(LaTeX base, MathML base, subscript) of a plain name: yhat2 -> \\hat{y}, 2; beta1 -> \\beta, 1; w7 -> w, 7."""
    if name.startswith("yhat"):
        return r"\hat{y}", _YHAT_MATHML, name[4:]
    letters = name.rstrip("0123456789")
    if letters in GREEK:
        latex, mathml = GREEK[letters]
        return latex, f"<mi>{mathml}</mi>", name[len(letters):]
    return name[0], f"<mi>{name[0]}</mi>", name[1:]


@dataclass(frozen=True)
class Sym(Expr):
    """A quantity by its plain name (w1, b3, x1, N1, z1, y, yhat, yhat2, a1, L, eta, mu, beta1, n),
    of row `row` when given; a row of more than one letter is a label: L_before."""

    name: str
    row: str | None = None

    def plain(self, alone: bool = False) -> str:
        return self.name + (f"_{self.row}" if self.row else "")

    def latex(self, alone: bool = False) -> str:
        base, _, sub = _base_and_subscript(self.name)
        if sub and self.row:
            return f"{base}_{{{sub},{self.row}}}"
        if not sub and self.row and len(self.row) > 1:
            return rf"{base}_{{\text{{{self.row}}}}}"
        subscript = sub or self.row
        if not subscript:
            return base
        return f"{base}_{subscript}" if len(subscript) == 1 else f"{base}_{{{subscript}}}"

    def mathml(self, alone: bool = False) -> str:
        _, base, sub = _base_and_subscript(self.name)
        parts = [_mathml_token(sub)] if sub else []
        if self.row:
            parts += ["<mo>,</mo>"] if sub else []
            parts.append(f"<mtext>{self.row}</mtext>" if len(self.row) > 1 else f"<mi>{self.row}</mi>")
        return f"<msub>{base}<mrow>{''.join(parts)}</mrow></msub>" if parts else base


@dataclass(frozen=True)
class StateOf(Expr):
    """An optimizer's state for one parameter: v_w1 (velocity), m_w1, s_w1 (Adam's moments),
    mhat_w1, shat_w1 (their bias corrections)."""

    kind: str
    name: str

    def plain(self, alone: bool = False) -> str:
        return f"{self.kind}_{self.name}"

    def latex(self, alone: bool = False) -> str:
        base = {"mhat": r"\hat{m}", "shat": r"\hat{s}"}.get(self.kind, self.kind)
        return f"{base}_{{{Sym(self.name).latex()}}}"

    def mathml(self, alone: bool = False) -> str:
        hat = self.kind.endswith("hat")
        base = f'<mover accent="true"><mi>{self.kind[0]}</mi><mo>^</mo></mover>' if hat else f"<mi>{self.kind}</mi>"
        return f"<msub>{base}<mrow>{Sym(self.name).mathml()}</mrow></msub>"


@dataclass(frozen=True)
class Num(Expr):
    """A number, as `number` writes it; in parentheses when negative, unless it stands alone."""

    value: float

    def plain(self, alone: bool = False) -> str:
        text = number(self.value)
        return text if alone or not text.startswith("-") else f"({text})"

    latex = plain

    def mathml(self, alone: bool = False) -> str:
        text = number(self.value)
        return f"<mn>{text}</mn>" if alone or not text.startswith("-") else f"<mrow><mo>(</mo><mn>{text}</mn><mo>)</mo></mrow>"


@dataclass(frozen=True)
class Dots(Expr):
    """The terms left out of a long sum."""

    def plain(self, alone: bool = False) -> str:
        return "..."

    def latex(self, alone: bool = False) -> str:
        return r"\cdots"

    def mathml(self, alone: bool = False) -> str:
        return "<mo>⋯</mo>"


@dataclass(frozen=True)
class Add(Expr):
    """a + b + c."""

    terms: tuple[Expr, ...]

    def plain(self, alone: bool = False) -> str:
        return " + ".join(term.plain() for term in self.terms)

    def latex(self, alone: bool = False) -> str:
        return " + ".join(term.latex() for term in self.terms)

    def mathml(self, alone: bool = False) -> str:
        return "<mrow>" + "<mo>+</mo>".join(term.mathml() for term in self.terms) + "</mrow>"


@dataclass(frozen=True)
class Neg(Expr):
    """-a: -(2/n), -\\frac{2}{n}."""

    a: Expr

    def plain(self, alone: bool = False) -> str:
        return f"-{self.a.plain()}"

    def latex(self, alone: bool = False) -> str:
        return f"-{self.a.latex()}"

    def mathml(self, alone: bool = False) -> str:
        return f"<mrow><mo>−</mo>{self.a.mathml()}</mrow>"


@dataclass(frozen=True)
class Sub(Expr):
    """a - b: the first operand as it stands, the second as a term."""

    a: Expr
    b: Expr

    def plain(self, alone: bool = False) -> str:
        return f"{self.a.plain(alone=True)} - {self.b.plain()}"

    def latex(self, alone: bool = False) -> str:
        return f"{self.a.latex(alone=True)} - {self.b.latex()}"

    def mathml(self, alone: bool = False) -> str:
        return f"<mrow>{self.a.mathml(alone=True)}<mo>−</mo>{self.b.mathml()}</mrow>"


@dataclass(frozen=True)
class Mul(Expr):
    """a times b times ...: in LaTeX side by side (a symbol and a parenthesis too: N_1 (1 - N_1)),
    or with a dot before a number or a parenthesis; in plain text with `*`, spaced around a derivative."""

    factors: tuple[Expr, ...]

    def plain(self, alone: bool = False) -> str:
        text = self.factors[0].plain()
        for factor in self.factors[1:]:
            following = factor.plain()
            text = f"{text} * {following}" if "/" in text + following else f"{text}*{following}"
        return text

    def latex(self, alone: bool = False) -> str:
        text = self.factors[0].latex()
        for before, factor in zip(self.factors, self.factors[1:]):
            following = factor.latex()
            juxtaposed = following[0] not in "0123456789(-." or (isinstance(before, Sym) and isinstance(factor, Paren))
            text = f"{text} {following}" if juxtaposed else rf"{text} \cdot {following}"
        return text

    def mathml(self, alone: bool = False) -> str:
        text = self.factors[0].mathml()
        for before, factor in zip(self.factors, self.factors[1:]):
            following = factor.latex()
            juxtaposed = following[0] not in "0123456789(-." or (isinstance(before, Sym) and isinstance(factor, Paren))
            text += ("<mo>&#x2062;</mo>" if juxtaposed else "<mo>·</mo>") + factor.mathml()
        return f"<mrow>{text}</mrow>"


@dataclass(frozen=True)
class Seq(Expr):
    """Parts side by side with a space between, in both notations: -2 (y_i - yhat_i), (1/n) sum_i ..."""

    parts: tuple[Expr, ...]

    def plain(self, alone: bool = False) -> str:
        return " ".join(part.plain(alone=True) for part in self.parts)

    def latex(self, alone: bool = False) -> str:
        return " ".join(part.latex(alone=True) for part in self.parts)

    def mathml(self, alone: bool = False) -> str:
        return '<mrow>' + '<mspace width="0.2em"/>'.join(part.mathml(alone=True) for part in self.parts) + "</mrow>"


@dataclass(frozen=True)
class Frac(Expr):
    """top over bottom: \\frac{top}{bottom}, (top/bottom)."""

    top: Expr
    bottom: Expr

    def plain(self, alone: bool = False) -> str:
        top, bottom = (_grouped(part) for part in (self.top, self.bottom))
        return f"({top}/{bottom})"

    def latex(self, alone: bool = False) -> str:
        return rf"\frac{{{self.top.latex(alone=True)}}}{{{self.bottom.latex(alone=True)}}}"

    def mathml(self, alone: bool = False) -> str:
        return f"<mfrac>{self.top.mathml(alone=True)}{self.bottom.mathml(alone=True)}</mfrac>"


@dataclass(frozen=True)
class Square(Expr):
    """base^2; a number base in parentheses when negative or in e-notation."""

    base: Expr

    def plain(self, alone: bool = False) -> str:
        base = self.base.plain()
        if isinstance(self.base, Num) and "e" in base and not base.startswith("("):
            base = f"({base})"
        return f"{base}^2"

    def latex(self, alone: bool = False) -> str:
        return self.plain() if isinstance(self.base, Num) else f"{self.base.latex()}^2"

    def mathml(self, alone: bool = False) -> str:
        base = self.base.mathml()
        if isinstance(self.base, Num) and "e" in number(self.base.value) and not number(self.base.value).startswith("-"):
            base = f"<mrow><mo>(</mo>{base}<mo>)</mo></mrow>"
        return f"<msup>{base}<mn>2</mn></msup>"


@dataclass(frozen=True)
class Paren(Expr):
    """(inner); `big` grows with its content in LaTeX (\\left( ... \\right))."""

    inner: Expr
    big: bool = False

    def plain(self, alone: bool = False) -> str:
        return f"({self.inner.plain(alone=True)})"

    def latex(self, alone: bool = False) -> str:
        inner = self.inner.latex(alone=True)
        return rf"\left( {inner} \right)" if self.big else f"({inner})"

    def mathml(self, alone: bool = False) -> str:
        return f"<mrow><mo>(</mo>{self.inner.mathml(alone=True)}<mo>)</mo></mrow>"


@dataclass(frozen=True)
class Scaled(Expr):
    """A fraction times a bracket: (1/200)*(...) and \\frac{1}{200} \\left( ... \\right)."""

    scale: Frac
    bracket: Paren

    def plain(self, alone: bool = False) -> str:
        return f"{self.scale.plain()}*{self.bracket.plain()}"

    def latex(self, alone: bool = False) -> str:
        return f"{self.scale.latex()} {self.bracket.latex()}"

    def mathml(self, alone: bool = False) -> str:
        return f"<mrow>{self.scale.mathml()}{self.bracket.mathml()}</mrow>"


@dataclass(frozen=True)
class Partial(Expr):
    """d(top)/d(bottom): \\frac{\\partial top}{\\partial bottom}; dL/dw1 for top L."""

    top: Expr
    bottom: Expr

    def plain(self, alone: bool = False) -> str:
        return f"d{self.top.plain(alone=True)}/d{self.bottom.plain(alone=True)}"

    def latex(self, alone: bool = False) -> str:
        return rf"\frac{{\partial {self.top.latex(alone=True)}}}{{\partial {self.bottom.latex(alone=True)}}}"

    def mathml(self, alone: bool = False) -> str:
        return (f"<mfrac><mrow><mo>∂</mo>{self.top.mathml(alone=True)}</mrow>"
                f"<mrow><mo>∂</mo>{self.bottom.mathml(alone=True)}</mrow></mfrac>")


def grad(name: str, row: str | None = None) -> Partial:
    """dL/d(name), of row `row` when given."""
    return Partial(Sym("L"), Sym(name, row))


@dataclass(frozen=True)
class Call(Expr):
    """An activation of its argument: tanh(z1), max(0, z1), sigmoid(z1) (\\sigma in LaTeX), each
    view as the activation's record (activations.Activation.written) writes it."""

    activation: object
    argument: Expr

    def plain(self, alone: bool = False) -> str:
        return self.activation.written("plain", self.argument.plain(alone=True))

    def latex(self, alone: bool = False) -> str:
        return self.activation.written("latex", self.argument.latex(alone=True))

    def mathml(self, alone: bool = False) -> str:
        return self.activation.written("mathml", self.argument.mathml(alone=True))


@dataclass(frozen=True)
class Step(Expr):
    """relu's slope at `argument`: 1 if z > 0, else 0."""

    argument: Expr

    def plain(self, alone: bool = False) -> str:
        return f"1 if {self.argument.plain(alone=True)} > 0, else 0"

    def latex(self, alone: bool = False) -> str:
        return rf"1 \text{{ if }} {self.argument.latex(alone=True)} > 0 \text{{, else }} 0"

    def mathml(self, alone: bool = False) -> str:
        return (f"<mrow><mn>1</mn><mtext>&#xA0;if&#xA0;</mtext>{self.argument.mathml(alone=True)}<mo>&gt;</mo><mn>0</mn>"
                "<mtext>,&#xA0;else&#xA0;</mtext><mn>0</mn></mrow>")


@dataclass(frozen=True)
class SumOver(Expr):
    """The sum over the rows: sum_i body, \\sum_{i=1}^{n} body; over the outputs with index j up to m."""

    body: Expr
    index: str = "i"
    upper: str = "n"

    def plain(self, alone: bool = False) -> str:
        return f"sum_{self.index} {self.body.plain()}"

    def latex(self, alone: bool = False) -> str:
        return rf"\sum_{{{self.index}=1}}^{{{self.upper}}} {self.body.latex()}"

    def mathml(self, alone: bool = False) -> str:
        return (f'<mrow><munderover><mo>∑</mo><mrow><mi>{self.index}</mi><mo>=</mo><mn>1</mn></mrow><mi>{self.upper}</mi></munderover>'
                f"{self.body.mathml()}</mrow>")


@dataclass(frozen=True)
class Sqrt(Expr):
    """The square root: sqrt(x), \\sqrt{x}."""

    inner: Expr

    def plain(self, alone: bool = False) -> str:
        return f"sqrt({self.inner.plain(alone=True)})"

    def latex(self, alone: bool = False) -> str:
        return rf"\sqrt{{{self.inner.latex(alone=True)}}}"

    def mathml(self, alone: bool = False) -> str:
        return f"<msqrt>{self.inner.mathml(alone=True)}</msqrt>"


@dataclass(frozen=True)
class Power(Expr):
    """base to a power: beta1^t, 0.9^3."""

    base: Expr
    exponent: Expr

    def plain(self, alone: bool = False) -> str:
        return f"{self.base.plain()}^{self.exponent.plain(alone=True)}"

    def latex(self, alone: bool = False) -> str:
        return f"{self.base.latex()}^{{{self.exponent.latex(alone=True)}}}"

    def mathml(self, alone: bool = False) -> str:
        return f"<msup>{self.base.mathml()}{self.exponent.mathml(alone=True)}</msup>"


@dataclass(frozen=True)
class Exp(Expr):
    """e to a power: exp(-0.3), e^{-0.3}."""

    exponent: Expr

    def plain(self, alone: bool = False) -> str:
        return f"exp({self.exponent.plain(alone=True)})"

    def latex(self, alone: bool = False) -> str:
        return f"e^{{{self.exponent.latex(alone=True)}}}"

    def mathml(self, alone: bool = False) -> str:
        return f"<msup><mi>e</mi>{self.exponent.mathml(alone=True)}</msup>"


@dataclass(frozen=True)
class Log(Expr):
    """The natural logarithm: log(0.574), \\log(0.574)."""

    argument: Expr

    def plain(self, alone: bool = False) -> str:
        return f"log({self.argument.plain(alone=True)})"

    def latex(self, alone: bool = False) -> str:
        return rf"\log({self.argument.latex(alone=True)})"

    def mathml(self, alone: bool = False) -> str:
        return f"<mrow><mi>log</mi><mo>&#x2061;</mo><mo>(</mo>{self.argument.mathml(alone=True)}<mo>)</mo></mrow>"


@dataclass(frozen=True)
class Raw(Expr):
    """Notation written out for each view, where no tree would say more (sigma's definition, say)."""

    plain_text: str
    latex_text: str
    mathml_text: str

    def plain(self, alone: bool = False) -> str:
        return self.plain_text

    def latex(self, alone: bool = False) -> str:
        return self.latex_text

    def mathml(self, alone: bool = False) -> str:
        return self.mathml_text


@dataclass(frozen=True)
class Equation(Expr):
    """sides joined by relations: a = b = c, or w <- w - eta dL/dw = ... (relations[i] between
    sides[i] and sides[i + 1]; "=" where not given), and a `note` in parentheses after it."""

    sides: tuple[Expr, ...]
    relations: tuple[str, ...] = ()
    note: Expr | None = None

    def relation(self, index: int, latex: bool = False) -> str:
        """The relation between sides[index] and sides[index + 1]."""
        relation = self.relations[index] if index < len(self.relations) else "="
        return {"<-": r"\leftarrow", "<=": r"\le"}.get(relation, relation) if latex else relation

    def plain(self, alone: bool = False) -> str:
        text = self.sides[0].plain(alone=True)
        for index, side in enumerate(self.sides[1:]):
            text += f" {self.relation(index)} {side.plain(alone=True)}"
        return text + ("" if self.note is None else f"   ({self.note.plain(alone=True)})")

    def latex(self, alone: bool = False) -> str:
        text = self.sides[0].latex(alone=True)
        for index, side in enumerate(self.sides[1:]):
            text += f" {self.relation(index, True)} {side.latex(alone=True)}"
        return text + ("" if self.note is None else rf" \quad ({self.note.latex(alone=True)})")

    def mathml(self, alone: bool = False) -> str:
        text = self.sides[0].mathml(alone=True)
        for index, side in enumerate(self.sides[1:]):
            text += f"<mo>{self.relation_symbol(index)}</mo>{side.mathml(alone=True)}"
        note = "" if self.note is None else f'<mspace width="1em"/><mo>(</mo>{self.note.mathml(alone=True)}<mo>)</mo>'
        return f"<mrow>{text}{note}</mrow>"

    def relation_symbol(self, index: int) -> str:
        """The relation as drawn: =, ←, ≤, >."""
        relation = self.relations[index] if index < len(self.relations) else "="
        return {"<-": "←", "<=": "≤", ">": "&gt;"}.get(relation, relation)


# An equation wider than this many characters (in plain text) is broken into rows for display.
DISPLAY_WIDTH = 60


@dataclass(frozen=True)
class Row:
    """One row of an equation broken for display: `left` (the equation's left side, on its
    first row only), a relation ("=", "<-", or "+" where a long sum goes on), and `right`."""

    left: Expr | None
    relation: str
    right: Expr

    def relation_latex(self) -> str:
        return {"<-": r"\leftarrow", "<=": r"\le"}.get(self.relation, self.relation)


def fits(eq: Expr, width: int = DISPLAY_WIDTH) -> bool:
    """Whether the equation is at most `width` characters wide in plain text: one row."""
    return len(eq.plain(alone=True)) <= width


def rows(eq: Equation, width: int = DISPLAY_WIDTH) -> list[Row]:
    """The equation as rows to align at their relations, for one too wide to fit: each side on
    a row of its own, and a side still wider than `width` broken between the terms of its sum.
    (The note, if any, goes after the last row.)"""
    broken = []
    for index, side in enumerate(eq.sides[1:]):
        pieces = _pieces(side, width)
        broken.append(Row(eq.sides[0] if index == 0 else None, eq.relation(index), pieces[0]))
        broken += [Row(None, "+", piece) for piece in pieces[1:]]
    return broken


def _pieces(side: Expr, width: int) -> list[Expr]:
    """A sum wider than `width` in runs of its terms that fit; anything else whole."""
    if not isinstance(side, Add) or len(side.plain()) <= width:
        return [side]
    runs, current = [], []
    for term in side.terms:
        if current and len(add(*current, term).plain()) > width:
            runs.append(add(*current))
            current = []
        current.append(term)
    return [*runs, add(*current)]


def _grouped(part: Expr) -> str:
    """A fraction's top or bottom in plain text: in parentheses when it is a sum or a difference."""
    text = part.plain(alone=True)
    return f"({text})" if isinstance(part, (Add, Sub)) else text


def _mathml_token(text: str) -> str:
    """A subscript: digits as a number, letters (h, i) as identifiers."""
    return f"<mn>{text}</mn>" if text.isdigit() else f"<mi>{text}</mi>"


def equation(*sides: Expr, relations: tuple[str, ...] = (), note: Expr | None = None) -> Equation:
    """sides[0] = sides[1] = ... (or joined by `relations`); where every relation is "=", a side
    that reads as the one before it (a sum of one term, say) is written once."""
    if not relations:
        sides = tuple(side for i, side in enumerate(sides) if i == 0 or side.plain(True) != sides[i - 1].plain(True))
    return Equation(tuple(sides), relations, note)


def add(*terms: Expr) -> Add:
    return Add(tuple(terms))


def mul(*factors: Expr) -> Mul:
    return Mul(tuple(factors))


def seq(*parts: Expr) -> Seq:
    return Seq(tuple(parts))
