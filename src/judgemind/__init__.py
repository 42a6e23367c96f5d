"""judgemind: score freestyle-skiing aerials jumps from video the way a judging panel does.

Subpackages follow the data flow: ``data`` (FineSkiing records, adapters, validation), ``rules`` (pure scoring
rules, jump codes, deduction catalogue), ``video`` (decoding, athlete locators), ``features`` (extractors and the
feature cache), ``models`` (JudgeMind and baselines), ``train``, ``evaluate`` (the only place metrics are
computed), ``report`` (judge sheet, tables, plots), ``synth`` (SynthAerials generator) and ``cli``.
"""

__version__ = "0.1.0"
