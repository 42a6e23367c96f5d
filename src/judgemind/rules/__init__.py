"""Pure, torch-free aerials scoring rules with exact decimals.

- :mod:`.scoring`: marks and score formulas (5-judge aerials, old 7-judge split format, diving), truncation;
- :mod:`.bands`: Air/Form/Landing grade bands, landing caps;
- :mod:`.codes`: jump codes (``bFdFF``) and the DD table;
- :mod:`.catalogue`: the deduction catalogue (``catalogue_v1.json``);
- :mod:`.compose`: the one composer of a model's prediction into the official score (every command uses it);
- :mod:`.names`: the stage and component names and the component maxima that every other package imports.

The domain reference is ``docs/rules.md`` (with the sources its facts come from).
"""

from judgemind.rules.bands import (
    AIR_BANDS,
    CONTACT_CAP_ITEMS,
    FORM_BANDS,
    GRADE_BANDS,
    LANDING_BANDS,
    GradeBand,
    apply_landing_caps,
    band_index,
    band_of,
    landing_band,
    landing_cap,
)
from judgemind.rules.catalogue import (
    CATALOGUE_FILE,
    CATALOGUE_V1_IDS,
    Catalogue,
    DeductionItem,
    load_catalogue,
)
from judgemind.rules.codes import (
    DD_TABLE,
    DIRECTIONS,
    MAX_SOMERSAULTS,
    SYMBOLS,
    DDEntry,
    JumpCode,
    Somersault,
    dd_entries,
    dd_entry,
    dd_for,
    describe_code,
    known_codes,
    parse_jump_code,
)
from judgemind.rules.compose import OfficialScore, compose_official, contact_cap, explain_official, to_mark
from judgemind.rules.names import COMPONENT_MAX, DIVING_MAX, J_MAX, SCORING_FORMATS, STAGE_LABELS, STAGES
from judgemind.rules.scoring import (
    COMPONENT_RANGES,
    COMPONENTS,
    MARK_STEP,
    AerialsScore,
    DivingScore,
    JudgeMarks,
    check_mark,
    final_score_matches,
    round_half_up2,
    score_aerials,
    score_aerials_legacy,
    score_diving,
    to_decimal,
    truncate2,
)

__all__ = [
    "AIR_BANDS",
    "CONTACT_CAP_ITEMS",
    "CATALOGUE_FILE",
    "CATALOGUE_V1_IDS",
    "COMPONENTS",
    "COMPONENT_MAX",
    "DIVING_MAX",
    "J_MAX",
    "COMPONENT_RANGES",
    "DD_TABLE",
    "DIRECTIONS",
    "FORM_BANDS",
    "GRADE_BANDS",
    "LANDING_BANDS",
    "MARK_STEP",
    "MAX_SOMERSAULTS",
    "SCORING_FORMATS",
    "STAGES",
    "STAGE_LABELS",
    "SYMBOLS",
    "AerialsScore",
    "Catalogue",
    "DDEntry",
    "DeductionItem",
    "DivingScore",
    "GradeBand",
    "OfficialScore",
    "JudgeMarks",
    "JumpCode",
    "Somersault",
    "apply_landing_caps",
    "band_index",
    "band_of",
    "check_mark",
    "compose_official",
    "contact_cap",
    "dd_entries",
    "dd_entry",
    "dd_for",
    "explain_official",
    "describe_code",
    "final_score_matches",
    "known_codes",
    "landing_band",
    "landing_cap",
    "load_catalogue",
    "parse_jump_code",
    "round_half_up2",
    "score_aerials",
    "score_aerials_legacy",
    "score_diving",
    "to_decimal",
    "to_mark",
    "truncate2",
]
