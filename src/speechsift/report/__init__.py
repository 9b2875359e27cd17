"""The HTML report of a run: statistics, plots and a sample browser with audio players.

``build_report(OUT)`` reads a run's output folder and writes ``OUT/report/index.html``, a static page
that opens from disk with no server, no network and no scripts.
"""

from speechsift.report.build import build_report

__all__ = ["build_report"]
