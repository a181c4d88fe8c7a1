"""Every source the built-in contexts cite, exactly as CLINICAL.md gives it.

Authors, titles, DOIs and URLs that CLINICAL.md does not give are left empty
rather than filled in from memory.
"""

from __future__ import annotations

from cd38.contexts.evidence import Citation
from cd38.errors import InvalidArgumentError

__all__ = ["CITATIONS", "cite"]

_ALL = [
    # --- phenotype definitions and reference bands (CLINICAL.md sections 1-2)
    Citation(
        "arup_3002216",
        "ARUP Laboratories test catalogue",
        None,
        title="B SUBSETS (test 3002216)",
        url="https://ltd.aruplab.com/Tests/Pub/3002216",
        evidence="V",
        note="Catalogue page; the 10-15 y and >=16 y percentage bands were cut off in the retrieved text. "
        "Catalogue year not stated.",
    ),
    Citation(
        "arup_2008901",
        "ARUP Laboratories test catalogue",
        None,
        title="test 2008901",
        url="http://ltd.aruplab.com/tests/pub/2008901",
        evidence="V",
        note="Catalogue page; paediatric bands for 2 mo-16 y exist there but are not in cd38's tables.",
    ),
    Citation(
        "mayo_rbcs",
        "Mayo Clinic Laboratories test catalogue",
        None,
        title="test RBCS",
        evidence="V",
        note="Read through test-catalogue mirrors; no stable URL recorded.",
    ),
    Citation(
        "mayo_iabcs",
        "Mayo Clinic Laboratories test catalogue",
        None,
        title="test IABCS",
        evidence="V",
        note="The TBBS T/B/NK panel is performed automatically with the B-subset panel.",
    ),
    Citation(
        "caraux_2010",
        "Haematologica",
        2010,
        authors="Caraux et al.",
        url="https://doaj.org/article/7c41e9c966524084a4e4d6bc4c3a075b",
        evidence="V-abs",
    ),
    Citation(
        "t1d_cei_2020",
        "Clinical and Experimental Immunology",
        2020,
        url="https://acemap.info/paper/324756990",
        evidence="V-abs",
        note="Type 1 diabetes study; authors not recorded.",
    ),
    Citation(
        "lab_report",
        "Reporting laboratory",
        None,
        title="reference interval printed on the lab report",
        evidence="V",
        note="The user's own lab interval, entered with the measurement (lab_range).",
    ),
    Citation(
        "arthritis_res_ther_2015",
        "Arthritis Research & Therapy",
        2015,
        url="https://arthritis-research.biomedcentral.com/articles/10.1186/s13075-015-0561-1/tables/1",
        evidence="V",
        note="Table 1 (B-subset definitions).",
    ),
    Citation(
        "sanz_2019",
        "Frontiers in Immunology",
        2019,
        authors="Sanz et al.",
        url="https://www.frontiersin.org/articles/10.3389/fimmu.2019.02458/full",
        evidence="V-abs",
    ),
    Citation(
        "blair_2010",
        "Immunity",
        2010,
        authors="Blair et al.",
        reference="Immunity 2010;32:129-140",
        doi="10.1016/j.immuni.2009.11.009",
        evidence="K",
        note="Standard citation; the content was not retrieved.",
    ),
    # --- CLL (section 3.1)
    Citation(
        "damle_1999",
        "Blood",
        1999,
        authors="Damle et al.",
        reference="Blood 1999;94:1840",
        url="http://ashpublications.net/blood/article/94/6/1840",
        evidence="V-abs",
    ),
    Citation(
        "oscier_2002",
        "Blood",
        2002,
        authors="Oscier et al.",
        reference="Blood 2002;100:1177",
        evidence="V-abs",
    ),
    Citation(
        "haematologica_2002_cll",
        "Haematologica",
        2002,
        evidence="V-abs",
        note="CLL cohort, n=155, CD38 >=30 %; authors not recorded.",
    ),
    Citation(
        "ibrahim_2001",
        "Blood",
        2001,
        authors="Ibrahim et al.",
        reference="Blood 2001;98:181",
        evidence="V-abs",
    ),
    Citation(
        "durig_2002",
        "Leukemia",
        2002,
        authors="Dürig et al.",
        url="https://www.nature.com/articles/2402339",
        evidence="V-abs",
    ),
    Citation(
        "kroeber_2002",
        "Blood",
        2002,
        authors="Kröber et al.",
        reference="Blood 2002;100:1410",
        evidence="V-abs",
    ),
    Citation(
        "cytometry_b_2006_cll",
        "Cytometry Part B",
        2006,
        url="https://scilit.com/publications/6a30524c4caf721d44f1f915b65accbd",
        evidence="V-abs",
        note="CLL cohort, n=78, CD38 >5 %; authors not recorded.",
    ),
    Citation(
        "ghia_2003", "Blood", 2003, authors="Ghia et al.", reference="Blood 2003;101:1262", evidence="V-abs"
    ),
    Citation(
        "hamblin_2002",
        "Blood",
        2002,
        authors="Hamblin et al.",
        reference="Blood 2002;99:1023",
        evidence="V-abs",
    ),
    Citation(
        "blood_2016_review",
        "Blood",
        2016,
        reference="Blood 2016;127:1752",
        evidence="V-abs",
        note="Systematic review; cited for the current emphasis on IGHV and FISH in CLL.",
    ),
    Citation(
        "iwcll_2018",
        "Blood",
        2018,
        title="iwCLL 2018 guidelines",
        reference="Blood 2018;131:2745",
        evidence="K",
        note="Its content on CD38 was not verified.",
    ),
    # --- anti-CD38 therapy, myeloma (section 3.2)
    Citation(
        "haematologica_8207",
        "Haematologica",
        None,
        url="https://haematologica.org/article/view/8207",
        evidence="V",
        note="Commonly cited as Oberle et al. 2017; the authorship was not verified.",
    ),
    Citation(
        "ash_image_bank_2023",
        "ASH Image Bank",
        2023,
        url="https://imagebank.hematology.org/image/64309",
        evidence="V",
    ),
    Citation(
        "cytometry_b_2019_kappa",
        "Cytometry Part B",
        2019,
        evidence="V-abs",
        note="Daratumumab on CD38+ hematogones and artifactual kappa restriction; authors not recorded.",
    ),
    Citation(
        "miyamoto_2019",
        "Cytometry Research",
        2019,
        authors="Miyamoto et al.",
        reference="Cytometry Research 2019;29(2):21-27",
        evidence="V-abs",
    ),
    Citation(
        "pojero_2016",
        "Cytometry Part B",
        2016,
        authors="Pojero et al.",
        reference="Cytometry B 2016;90:91",
        doi="10.1002/cyto.b.21269",
        evidence="V-abs",
    ),
    Citation(
        "cytometry_b_2018_cd229",
        "Cytometry Part B",
        2018,
        reference="Cytometry B 2018;94:509",
        doi="10.1002/cyto.b.21619",
        evidence="V-abs",
    ),
    Citation(
        "munshi_2020",
        "Blood Advances",
        2020,
        authors="Munshi et al.",
        reference="Blood Adv 2020;4:5988",
        doi="10.1182/bloodadvances.2020002827",
        evidence="V-abs",
    ),
    Citation("munshi_2017", "JAMA Oncology", 2017, authors="Munshi et al.", evidence="V-abs"),
    # --- kidney transplant (section 3.3)
    Citation(
        "svachova_2016",
        "Transplant International",
        2016,
        authors="Svachova et al.",
        doi="10.1111/tri.12751",
        evidence="V-abs",
    ),
    Citation(
        "shabir_2015", "American Journal of Transplantation", 2015, authors="Shabir et al.", evidence="V-abs"
    ),
    Citation(
        "hui_2025",
        "International Urology and Nephrology",
        2025,
        authors="Hui et al.",
        doi="10.1007/s11255-025-04451-z",
        evidence="V-abs",
    ),
    # --- chronic GVHD (section 3.4)
    Citation(
        "transpl_int_2012_cgvhd",
        "Transplant International",
        2012,
        reference="Transpl Int 2012;25:87",
        doi="10.1111/j.1432-2277.2011.01388.x",
        evidence="V-abs",
    ),
    Citation("blood_2011_cgvhd", "Blood", 2011, reference="Blood 2011;117:2265", evidence="V-abs"),
    # --- CD24hiCD38hi phenotype contexts (section 3.5)
    Citation(
        "lee_2024",
        "Journal of Investigative Dermatology",
        2024,
        authors="Lee JY et al.",
        reference="J Invest Dermatol 2024;144:2080",
        doi="10.1016/j.jid.2024.02.004",
        evidence="V-abs",
    ),
    Citation(
        "el_mokhtar_2020",
        "Journal of Immunology Research",
        2020,
        authors="El-Mokhtar et al.",
        evidence="V-abs",
    ),
    Citation(
        "lima_2016",
        "BMC Pregnancy and Childbirth",
        2016,
        authors="Lima et al.",
        reference="BMC Pregnancy Childbirth 2016;16:139",
        doi="10.1186/s12884-016-0927-7",
        evidence="V-abs",
    ),
    Citation(
        "heinemann_2016",
        "Scandinavian Journal of Rheumatology",
        2016,
        authors="Heinemann et al.",
        evidence="V-abs",
    ),
    # --- SLE / SSc (section 3.6)
    Citation(
        "burns_2021",
        "International Journal of Molecular Sciences",
        2021,
        authors="Burns et al.",
        reference="IJMS 2021;22:2424",
        doi="10.3390/ijms22052424",
        evidence="V-abs",
    ),
    Citation(
        "jacobi_2010",
        "Annals of the Rheumatic Diseases",
        2010,
        authors="Jacobi et al.",
        reference="Ann Rheum Dis 2010;69:305",
        evidence="V-abs",
    ),
    Citation(
        "zhao_2025_cm313",
        "Signal Transduction and Targeted Therapy",
        2025,
        authors="Zhao et al.",
        evidence="V-abs",
        note="CM313 phase Ib/IIa trial, NCT05465707.",
    ),
    Citation(
        "agarbati_2022",
        "Frontiers in Immunology",
        2022,
        authors="Agarbati et al.",
        doi="10.3389/fimmu.2022.1072462",
        evidence="V-abs",
    ),
    # --- lymphoma (section 3.7)
    Citation(
        "dlbcl_2021",
        "Concepedia (publication record)",
        2021,
        title="CD38 expression is an important prognostic marker in DLBCL",
        url="https://preview.concepedia.online/publication/W3185058769",
        evidence="V-abs",
        note="The numeric CD38 cut-off was not in the abstract.",
    ),
    # --- T-cell CD38 (section 3.8)
    Citation(
        "liu_1997",
        "Journal of Acquired Immune Deficiency Syndromes",
        1997,
        authors="Liu et al.",
        reference="JAIDS 1997;16:83",
        evidence="V-abs",
    ),
    Citation(
        "giorgi_1993",
        "Journal of Acquired Immune Deficiency Syndromes",
        1993,
        authors="Giorgi, Liu et al.",
        reference="JAIDS 1993;6:904",
        evidence="V-abs",
    ),
    Citation(
        "du_2021",
        "Frontiers in Immunology",
        2021,
        authors="Du et al.",
        doi="10.3389/fimmu.2021.735125",
        evidence="V-abs",
    ),
    # --- solid tumours (section 3.9)
    Citation(
        "ng_2020",
        "Journal for ImmunoTherapy of Cancer",
        2020,
        authors="Ng et al.",
        reference="J Immunother Cancer 2020;8:e000987",
        evidence="V-abs",
    ),
    Citation("zhu_2020", "Frontiers in Genetics", 2020, authors="Zhu et al.", evidence="V-abs"),
    Citation("barth_2022", "Frontiers in Immunology", 2022, authors="Barth et al.", evidence="V-abs"),
    # --- confounders (section 4)
    Citation(
        "halliley_2010",
        "Vaccine",
        2010,
        authors="Halliley et al.",
        reference="Vaccine 2010;28:3582",
        evidence="V-abs",
    ),
    Citation(
        "blanchard_rohner_2009",
        "Blood",
        2009,
        authors="Blanchard-Rohner et al.",
        reference="Blood 2009;114:4998",
        evidence="V-abs",
    ),
    Citation(
        "vaccine_1994",
        "Vaccine",
        1994,
        evidence="V-abs",
        note="Peak at day 7-8, low by day 11; authors not recorded.",
    ),
    Citation(
        "front_immunol_2017_infection",
        "Frontiers in Immunology",
        2017,
        doi="10.3389/fimmu.2017.00630",
        evidence="V-abs",
    ),
    Citation(
        "roll_2006",
        "Arthritis & Rheumatism",
        2006,
        authors="Roll et al.",
        doi="10.1002/art.22019",
        evidence="V-abs",
    ),
    Citation(
        "leandro_2013",
        "Arthritis Research & Therapy",
        2013,
        authors="Leandro",
        reference="Arthritis Res Ther 2013;15(Suppl 1):S3",
        evidence="V-abs",
    ),
    Citation(
        "blood_2006_rituximab", "Blood", 2006, reference="Blood 2006;108(11):936 (abstract)", evidence="V-abs"
    ),
    Citation(
        "yu_1974",
        "Journal of Clinical Investigation",
        1974,
        authors="Yu et al.",
        reference="J Clin Invest 1974;53:565",
        evidence="V-abs",
    ),
    Citation(
        "lao_2024",
        "Pathology",
        2024,
        authors="Lao et al.",
        reference="Pathology 2024;56:571",
        evidence="V-abs",
    ),
    Citation(
        "jim_2018",
        "Journal of Immunological Methods",
        2018,
        reference="J Immunol Methods 2018;463:61 (PMC6423980)",
        evidence="V-abs",
    ),
    Citation(
        "cytometry_b_2006_methods",
        "Cytometry Part B",
        2006,
        evidence="V-abs",
        note="CD38 quantification methods (% positive, ABC, histogram shape) classify patients differently.",
    ),
    Citation("cytometry_b_2013", "Cytometry Part B", 2013, doi="10.1002/cyto.b.21077", evidence="V-abs"),
]

CITATIONS: dict[str, Citation] = {c.key: c for c in _ALL}


def cite(*keys: str) -> tuple[Citation, ...]:
    """The citations for ``keys``; an unknown key is a bug in a rule table."""
    missing = [k for k in keys if k not in CITATIONS]
    if missing:
        raise InvalidArgumentError(f"unknown citation key(s) {missing}")
    return tuple(CITATIONS[k] for k in keys)
