"""What `fwdback gradcheck` reports: each parameter's analytic and numeric gradient, as a table."""

from __future__ import annotations

from ..sections import Mark, Table, cells


def gradcheck_table(checks, title: str = "Gradient check") -> Table:
    """One row per parameter: analytic and numeric gradient, relative error, ok or FAIL.

    `checks` are gradcheck.GradientCheck; "(rounding)", "(pattern held)" and "(kink)" mark the
    rows whose fields say so.
    """
    body = []
    for check in checks:
        verdict = "ok" if check.ok else "FAIL"
        marks = [mark for mark, on in (("rounding", check.by_rounding), ("pattern held", check.pattern_held and not check.kink),
                                       ("kink", check.kink)) if on]
        if marks:
            verdict += f" ({', '.join(marks)})"
        body.append((*cells(check.parameter, f"{check.analytic:.12g}", f"{check.numeric:.12g}",
                             f"{check.relative_error:.1e}"), (Mark(verdict, check.ok),)))
    header = cells("parameter", "analytic", "numeric", "relative error", "check")
    return Table(header, tuple(body), ("left", "right", "right", "right", "left"), title)
