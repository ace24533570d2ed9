"""The views: sections (sections.py) and training runs written for a terminal or as Markdown.

The only modules that know rich or Markdown; what they write is decided in reports/.
"""
