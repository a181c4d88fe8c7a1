"""How well the B-cell panel recovers cd38.synth's true subset fractions.

    python benches/panel_recovery.py [N_EVENTS]

For healthy (spillover 1.0 and 2.0), CLL-like and post-rituximab-like samples,
prints each subset's % of parent next to the truth (the gate's definition applied
to the generator's phenotype table) and flags any beyond 1 pp or 3 binomial SEs.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from panel_truth import definitions, true_fraction

import cd38
from cd38 import synth
from cd38.panels import bcell


def main(n: int) -> int:
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for profile, spill, seed in [
            ("healthy", 1.0, 3),
            ("cll", 1.0, 3),
            ("post_rituximab", 1.0, 3),
            ("healthy", 2.0, 5),
        ]:
            ss = synth.bcell_sample(Path(tmp) / f"{profile}.fcs", n, seed=seed, profile=profile, spill=spill)
            s = cd38.read_fcs(ss.path)
            st = bcell(s)
            counts = {r["population"]: r for r in st.gate(s).counts().iter_rows(named=True)}
            print(f"{profile}, spillover x{spill}; not gated: {st.info['missing'] or 'none'}")
            for gate in definitions():
                truth, den = true_fraction(ss, gate)
                got = counts.get(gate, {}).get("pct_parent")
                if got is None or den == 0:
                    print(f"   {gate:20} {'not gated' if gate not in counts else 'parent empty'}")
                    continue
                se = 100 * math.sqrt(truth * (1 - truth) / den)
                off = abs(got - 100 * truth) > max(1.0, 3 * se)
                bad += off
                flag = "  <-- beyond tolerance" if off else ""
                print(f"   {gate:20} {got:7.2f} %  true {100 * truth:7.2f} %  SE {se:.2f}{flag}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
