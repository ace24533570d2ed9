"""What each command reports, before any view writes it: format-free tables and sections
(sections.py), JSON-ready documents and CSV rows. One module per command."""
