"""cd38 context plugin ``vaccine_response``: plasmablasts around the post-vaccination surge."""

from cd38_vaccine_response.context import CITATIONS, VaccineResponseContext, window_of

__all__ = ["CITATIONS", "VaccineResponseContext", "window_of"]
__version__ = "0.1.0"
