"""A worked epoch as a notebook shows it: Markdown with LaTeX, or HTML with MathML."""

from __future__ import annotations

from dataclasses import dataclass

from ..explain import WorkedEpoch
from ..reports.explain_json import explain_document
from ..sections import Block
from .html import sections_html
from .markdown import markdown


@dataclass
class Explanation:
    """A worked epoch and its sections, as Python shows them: Markdown with LaTeX
    (`markdown()`, `_repr_markdown_`) or HTML with MathML (`html()`, `_repr_html_`, which a
    notebook shows), and every value as data (`document()`)."""

    worked: WorkedEpoch
    blocks: list[Block]
    features: tuple[str, ...]
    target: str = "y"

    def markdown(self) -> str:
        return markdown(self.blocks)

    def html(self) -> str:
        """An HTML fragment: the sections, their equations in MathML."""
        return f'<div class="fwdback-worked">{sections_html(self.blocks, deeper=2)}</div>'

    def document(self) -> dict:
        return explain_document(self.worked, self.features, self.target)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        return self.html()
