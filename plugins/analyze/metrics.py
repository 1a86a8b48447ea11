"""The beat-tracking figures, as the MIREX tasks define them: tempo accuracy 1 (within 4 %)
and accuracy 2 (also at 2x, 3x, 1/2 or 1/3 of the tempo), and mir_eval's beat F-measure
(+-70 ms) for beats and for downbeats. As mir_eval's own `beat.evaluate` does, beats in the
first 5 seconds are left out of the F-measures (trackers need a few beats to lock on)."""

from __future__ import annotations

import numpy as np

TEMPO_TOLERANCE = 0.04
OCTAVE_FACTORS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)


def tempo_accuracy(estimate: float, reference: float) -> tuple[bool, bool]:
    """(accuracy 1, accuracy 2) for one track."""
    ok = [abs(estimate - reference * f) <= TEMPO_TOLERANCE * reference * f for f in OCTAVE_FACTORS]
    return ok[0], any(ok)


def f_measure(reference: np.ndarray, estimate: np.ndarray) -> float:
    import mir_eval

    reference = mir_eval.beat.trim_beats(np.asarray(reference, float))
    estimate = mir_eval.beat.trim_beats(np.asarray(estimate, float))
    if len(reference) == 0 or len(estimate) == 0:
        return float(len(reference) == len(estimate))
    return float(mir_eval.beat.f_measure(reference, estimate))
