"""Self-contained HTML reports: ``cd38.report.write_report(path, result, interpretation=...)``.

The file embeds its images (PNG data URIs) and CSS, loads nothing from the
network, and escapes every piece of text that came from a file or a plugin.
"""

from cd38.report.build import DISCLAIMER, build_report, write_report

__all__ = ["DISCLAIMER", "build_report", "write_report"]
