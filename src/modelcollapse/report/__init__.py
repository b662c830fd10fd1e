"""Figures, tables and a self-contained HTML page from a run's stored results."""

from modelcollapse.report.build import build_report

__all__ = ["build_report"]
