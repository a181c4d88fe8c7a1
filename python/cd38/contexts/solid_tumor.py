"""The ``solid_tumor_literature`` context (CLINICAL.md section 3.9): literature context only.

The solid-tumour findings are tissue or transcriptome results; they are listed
as context and never drive a category for a blood CD38/IgM result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import BuiltinContext
from cd38.contexts.api import ContextOutput
from cd38.contexts.citations import cite
from cd38.interpretation import Finding
from cd38.measurement import Measurement
from cd38.subject import Subject

__all__ = ["SolidTumorLiteratureContext"]

CATEGORY = "literature_context"
PREFIX = "Literature context: tissue/transcriptomic findings, not applicable to a blood CD38/IgM result."
_ITEMS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "solid_tumor_literature.hcc_tissue",
        "In hepatocellular carcinoma (n=49, immunohistochemistry on tumour tissue; Ng 2020), a higher "
        "intratumoral "
        "CD38+ cell proportion was associated with better response to immune-checkpoint blockade (ORR 43.5 % "
        "vs 3.9 %). "
        "This is a tissue test, not a blood test.",
        ("ng_2020",),
        ("V-abs", "X"),
    ),
    (
        "solid_tumor_literature.ovarian_mrna",
        "In ovarian cancer (GEPIA mRNA data, 424 cases; Zhu 2020), high CD38 mRNA was associated with better "
        "disease-free survival (HR 0.66). The product brief's figure of 389 patients was not found.",
        ("zhu_2020",),
        ("V-abs", "X"),
    ),
    (
        "solid_tumor_literature.ici_blood_b_subsets",
        "In a pan-cancer immune-checkpoint-inhibitor study (n=39; Barth 2022), baseline blood B-cell subsets "
        "were not "
        "associated with response. The product brief's claim about IgM memory B cells and anti-PD-1 response "
        "in "
        "NSCLC was not found in any retrieved source.",
        ("barth_2022",),
        ("V-abs", "X"),
    ),
)
UNVERIFIED = (
    "Not verified: the product brief's claims about breast cancer CD38 and survival, and about NSCLC "
    "IgM memory B cells and anti-PD-1; they are not shown as findings."
)


class SolidTumorLiteratureContext(BuiltinContext):
    name = "solid_tumor_literature"
    description = (
        "Solid-tumour CD38 literature (tissue IHC, transcriptome) as context only; never a category "
        "for a blood result."
    )
    citations = cite("ng_2020", "zhu_2020", "barth_2022")
    rules: ClassVar[Mapping[str, str]] = {rule: text.split(";")[0] for rule, text, _, _ in _ITEMS}

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        for rule, text, keys, tags in _ITEMS:
            out.findings.append(
                Finding(rule, CATEGORY, f"{PREFIX} {text}", cite(*keys), tags, caveats=(UNVERIFIED,))
            )
        return out
