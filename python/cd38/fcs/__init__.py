"""FCS 2.0 to 3.2 reading and FCS 3.1 writing."""

from cd38.fcs.io import FCSWriter, read_fcs, read_fcs_datasets, read_fcs_metadata, write_fcs
from cd38.fcs.keywords import Keywords
from cd38.fcs.sample import Repair, Sample

__all__ = [
    "FCSWriter",
    "Keywords",
    "Repair",
    "Sample",
    "read_fcs",
    "read_fcs_datasets",
    "read_fcs_metadata",
    "write_fcs",
]
