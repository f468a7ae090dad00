"""Canonical layers, column names, enumerations, aliases and district names.

Column names live here and nowhere else (see DESIGN §3): other modules import
the constants instead of repeating string literals.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "CANONICAL_CRS",
    "DISTRICT_ALIASES",
    "DISTRICT_NAMES",
    "HAZARD_CLASSIFICATIONS",
    "HAZARD_STATUSES",
    "LAYER_KINDS",
    "RELEASE_METHODS",
    "TABLE_COLUMNS",
    "UNASSIGNED",
    "canonical_district",
]

#: Every layer is held in WGS84 longitude/latitude once read.
CANONICAL_CRS = "EPSG:4326"

# --- column names -----------------------------------------------------------
GEOMETRY = "geometry"

HAZARD_ID = "hazard_id"
MINES_AP = "mines_ap"
MINES_AT = "mines_at"
CLASSIFICATION = "classification"
STATUS = "status"
DISTRICT = "district"
SOURCE = "source"
SUBMITTED_ON = "submitted_on"

RELEASE_ID = "release_id"
RELEASED_ON = "released_on"
METHOD = "method"
ITEMS_AP = "items_ap"
ITEMS_AT = "items_at"
ITEMS_UXO = "items_uxo"
ORGANISATION = "organisation"

ITEM_ID = "item_id"
FOUND_ON = "found_on"
ITEM_TYPE = "item_type"
MODEL = "model"
DEPTH_CM = "depth_cm"

NAME_AZ = "name_az"
ISO_3166_2 = "iso_3166_2"

# Figures computed by minemap.
MINES = "mines"
MAPPED_AREA_HA = "mapped_area_ha"
RELEASED_AREA_HA = "released_area_ha"
REMAINING_AREA_HA = "remaining_area_ha"
MAPPED_MINES = "mapped_mines"
MAPPED_MINES_AP = "mapped_mines_ap"
MAPPED_MINES_AT = "mapped_mines_at"
REMAINING_SHARE = "remaining_share"
REMAINING_MINES_AP_EST = "remaining_mines_ap_est"
REMAINING_MINES_AT_EST = "remaining_mines_at_est"
REMAINING_MINES_EST = "remaining_mines_est"
# The same areas with overlapping records counted once (see contamination.py).
NET_MAPPED_AREA_HA = "net_mapped_area_ha"
NET_RELEASED_AREA_HA = "net_released_area_ha"
NET_REMAINING_AREA_HA = "net_remaining_area_ha"
HAZARDS = "hazards"
SHARE_RELEASED = "share_released"
RELEASED_AREA_BY_METHOD_HA = {m: f"released_{m}_ha" for m in ("cancelled", "reduced", "cleared")}

#: The per-district table begins with exactly these columns, in this order.
TABLE_COLUMNS = (
    DISTRICT,
    MAPPED_AREA_HA,
    RELEASED_AREA_HA,
    REMAINING_AREA_HA,
    MAPPED_MINES,
    REMAINING_MINES_EST,
)

#: District name for ground outside every district polygon.
UNASSIGNED = "(unassigned)"

# --- enumerations -------------------------------------------------------------
HAZARD_CLASSIFICATIONS = ("SHA", "CHA")
HAZARD_STATUSES = ("open", "worked_on", "closed")
RELEASE_METHODS = ("cancelled", "reduced", "cleared")
#: Device types found (IMSMA): anti-personnel, anti-tank, unexploded ordnance,
#: abandoned explosive ordnance, improvised explosive device, submunition.
ITEM_TYPES = ("AP", "AT", "UXO", "AXO", "IED", "SUBMUNITION")

LAYER_KINDS = ("hazards", "releases", "items", "districts")

#: Required columns of each layer, geometry aside.
REQUIRED = {
    "hazards": (HAZARD_ID, MINES_AP, MINES_AT),
    "releases": (RELEASE_ID, RELEASED_ON, METHOD),
    "items": (ITEM_ID, FOUND_ON, ITEM_TYPE),
    "districts": (DISTRICT,),
}
#: Optional columns minemap knows, carried through when present.
OPTIONAL = {
    "hazards": (CLASSIFICATION, STATUS, DISTRICT, SOURCE, SUBMITTED_ON),
    "releases": (ITEMS_AP, ITEMS_AT, ITEMS_UXO, HAZARD_ID, ORGANISATION),
    "items": (MODEL, RELEASE_ID, DEPTH_CM),
    "districts": (NAME_AZ, ISO_3166_2),
}
ID_COLUMN = {"hazards": HAZARD_ID, "releases": RELEASE_ID, "items": ITEM_ID, "districts": DISTRICT}
COUNT_COLUMNS = {
    "hazards": (MINES_AP, MINES_AT),
    "releases": (ITEMS_AP, ITEMS_AT, ITEMS_UXO),
    "items": (),
    "districts": (),
}
DATE_COLUMNS = {
    "hazards": (SUBMITTED_ON,),
    "releases": (RELEASED_ON,),
    "items": (FOUND_ON,),
    "districts": (),
}
ENUM_COLUMNS = {
    "hazards": {CLASSIFICATION: HAZARD_CLASSIFICATIONS, STATUS: HAZARD_STATUSES},
    "releases": {METHOD: RELEASE_METHODS},
    "items": {ITEM_TYPE: ITEM_TYPES},
    "districts": {},
}
#: Geometry types each layer takes.
GEOMETRY_TYPES = {
    "hazards": ("Polygon", "MultiPolygon"),
    "releases": ("Polygon", "MultiPolygon"),
    "items": ("Point",),
    "districts": ("Polygon", "MultiPolygon"),
}

#: Column aliases seen in files, matched case-insensitively.
COLUMN_ALIASES = {
    "hazards": {
        HAZARD_ID: ("id", "hazard", "hazardid", "hazard_ref", "sha_id", "cha_id", "fid_hazard"),
        MINES_AP: ("ap", "anti_personnel", "ap_mines", "mines_ap_count"),
        MINES_AT: ("at", "anti_tank", "at_mines", "mines_at_count"),
        CLASSIFICATION: ("class", "hazard_type", "type"),
        SUBMITTED_ON: ("submitted", "date", "record_date"),
    },
    "releases": {
        RELEASE_ID: ("id", "release", "releaseid", "task_id"),
        RELEASED_ON: ("date", "cleared_on", "release_date", "completed_on"),
        METHOD: ("release_method", "type"),
        ITEMS_AP: ("ap", "ap_found"),
        ITEMS_AT: ("at", "at_found"),
        ITEMS_UXO: ("uxo", "uxo_found"),
    },
    "items": {
        ITEM_ID: ("id", "item", "device_id"),
        FOUND_ON: ("date", "found", "found_date"),
        ITEM_TYPE: ("type", "device_type", "category"),
    },
    "districts": {
        DISTRICT: ("name", "district_name", "rayon", "shapename"),
    },
}

#: minemap's English district keys, as in DESIGN §1.
DISTRICT_NAMES = (
    "Aghdam",
    "Fuzuli",
    "Zangilan",
    "Jabrayil",
    "Gubadli",
    "Lachin",
    "Kalbajar",
    "Khojaly",
    "Khojavend",
    "Shusha",
    "Tartar",
    "Aghdara",
    "Khankandi",
)

#: Spellings seen in maps and bulletins, by district key. The fuller matcher
#: (scripts, ISO codes, closest names) belongs to the import issue.
DISTRICT_ALIASES = {
    "Aghdam": ("Agdam", "Ağdam", "AZ-AGM"),
    "Fuzuli": ("Fizuli", "Füzuli", "AZ-FUZ"),
    "Zangilan": ("Zəngilan", "Zengilan", "AZ-ZAN"),
    "Jabrayil": ("Jabrail", "Cəbrayıl", "Cabrayil", "AZ-CAB"),
    "Gubadli": ("Gubadly", "Qubadli", "Qubadlı", "AZ-QBI"),
    "Lachin": ("Laçın", "Lacin", "AZ-LAC"),
    "Kalbajar": ("Kelbajar", "Kəlbəcər", "Kelbecer", "AZ-KAL"),
    "Khojaly": ("Khojali", "Xocalı", "Xocali", "AZ-XCI"),
    "Khojavend": ("Xocavənd", "Xocavend", "Khojavand", "AZ-XVD"),
    "Shusha": ("Şuşa", "Susa", "Shushi", "AZ-SUS"),
    "Tartar": ("Terter", "Tərtər", "AZ-TAR"),
    "Aghdara": ("Agdara", "Ağdərə", "Agdere"),
    "Khankandi": ("Khankendi", "Xankəndi", "Xankandi", "Stepanakert", "AZ-XA"),
}


def _fold(text: str) -> str:
    """Lower-case, strip diacritics and separators, map Azerbaijani letters to ASCII."""
    table = str.maketrans({"ə": "e", "Ə": "e", "ı": "i", "İ": "i", "ş": "s", "ç": "c", "ğ": "g"})
    text = unicodedata.normalize("NFKD", text.translate(table))
    text = "".join(c for c in text if not unicodedata.combining(c))
    for suffix in (" district", " rayon", " city", " rayonu"):
        text = text.lower().removesuffix(suffix)
    return "".join(c for c in text.lower() if c.isalnum())


_DISTRICT_LOOKUP = {
    _fold(alias): key for key, aliases in DISTRICT_ALIASES.items() for alias in (key, *aliases)
}


def canonical_district(name: object) -> str | None:
    """Return minemap's district key for a spelling, or ``None`` when unknown.

    >>> canonical_district("Qubadlı"), canonical_district("Agdam District")
    ('Gubadli', 'Aghdam')
    """
    if not isinstance(name, str) or not name.strip():
        return None
    return _DISTRICT_LOOKUP.get(_fold(name.strip()))
