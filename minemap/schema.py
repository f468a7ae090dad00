"""Canonical layers, column names, enumerations and column aliases.

Column names live here and nowhere else: other modules import
the constants instead of repeating string literals.
"""

from __future__ import annotations

__all__ = [
    "CANONICAL_CRS",
    "HAZARD_CLASSIFICATIONS",
    "HAZARD_STATUSES",
    "LAYER_KINDS",
    "RELEASE_METHODS",
    "TABLE_COLUMNS",
    "UNASSIGNED",
    "canonical_district",
    "closest_districts",
    "fold_name",
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
#: Hectares: of a release given as an area, without a polygon (and a bulletin's figure).
AREA_HA = "area_ha"

ITEM_ID = "item_id"
FOUND_ON = "found_on"
ITEM_TYPE = "item_type"
MODEL = "model"
DEPTH_CM = "depth_cm"

NAME_AZ = "name_az"
ISO_3166_2 = "iso_3166_2"
#: Source and licence of a district boundary, credited on the map.
ATTRIBUTION = "attribution"

# Where a feature came from: added by the readers, kept in the rejects report.
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
# A rejected feature's geometry as read (WKT), where the one written had to be repaired
# (ten letters at most: Shapefiles cut longer names).
GEOMETRY_AS_READ = "as_read"

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
#: Ground released by releases given as an area, without a polygon (area-only):
#: the record's own, and counted once.
RELEASED_AREA_ONLY_HA = "released_area_only_ha"
NET_RELEASED_AREA_ONLY_HA = "net_released_area_only_ha"
#: Records (with ground in a district) whose mine count is not known.
HAZARDS_UNKNOWN_MINES = "hazards_unknown_mines"
HAZARDS = "hazards"
SHARE_RELEASED = "share_released"
#: The day a figure holds on (``remaining_over_time``).
AS_OF = "as_of"
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
    "releases": (ITEMS_AP, ITEMS_AT, ITEMS_UXO, HAZARD_ID, ORGANISATION, AREA_HA),
    "items": (MODEL, RELEASE_ID, DEPTH_CM),
    "districts": (NAME_AZ, ISO_3166_2, ATTRIBUTION),
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

#: Column aliases seen in files, matched case-insensitively (after the canonical
#: name itself and its 10-character Shapefile cut). Order matters: the first alias
#: found in a file wins. An explicit mapping overrides all of them.
COLUMN_ALIASES = {
    "hazards": {
        HAZARD_ID: (
            "id",
            "hazard",
            "hazardid",
            "hazard_ref",
            "hazard_no",
            "hazard_code",
            "sha_id",
            "cha_id",
            "fid_hazard",
            "record_id",
            "minefield_id",
            "ref",
        ),
        MINES_AP: (
            "ap",
            "anti_personnel",
            "antipersonnel",
            "ap_mines",
            "ap_count",
            "mines_ap_count",
            "apm",
            "ap_mine",
        ),
        MINES_AT: (
            "at",
            "anti_tank",
            "antitank",
            "at_mines",
            "at_count",
            "mines_at_count",
            "atm",
            "at_mine",
        ),
        CLASSIFICATION: ("class", "hazard_type", "hazard_class", "type"),
        STATUS: ("state", "hazard_status"),
        DISTRICT: ("rayon", "district_name", "region", "adm2"),
        SOURCE: ("source_name", "origin", "submitted_by"),
        SUBMITTED_ON: ("submitted", "date", "record_date", "date_submitted", "received_on"),
    },
    "releases": {
        RELEASE_ID: ("id", "release", "releaseid", "release_ref", "task_id", "task", "ref"),
        RELEASED_ON: (
            "date",
            "cleared_on",
            "release_date",
            "released",
            "completed_on",
            "completion_date",
            "date_released",
            "end_date",
        ),
        METHOD: ("release_method", "release_type", "type"),
        ITEMS_AP: ("ap", "ap_found", "anti_personnel", "ap_mines"),
        ITEMS_AT: ("at", "at_found", "anti_tank", "at_mines"),
        ITEMS_UXO: ("uxo", "uxo_found", "erw"),
        HAZARD_ID: ("hazard", "hazard_ref", "hazardid"),
        ORGANISATION: ("organization", "org", "operator", "agency", "team"),
        # The hectares of a release kept as a row, without a polygon (area-only).
        AREA_HA: ("hectares", "ha", "area_hectares", "released_ha", "release_area_ha"),
    },
    "items": {
        ITEM_ID: ("id", "item", "device_id", "item_ref", "ref"),
        FOUND_ON: ("date", "found", "found_date", "date_found"),
        ITEM_TYPE: ("type", "device_type", "category"),
        MODEL: ("device_model", "device"),
        RELEASE_ID: ("task_id", "release", "task"),
        DEPTH_CM: ("depth", "depth_centimetres"),
    },
    "districts": {
        DISTRICT: ("name", "district_name", "rayon", "shapename", "adm2_en", "name_en", "adm2"),
        NAME_AZ: ("name_azeri", "adm2_az", "name_local"),
        ISO_3166_2: ("iso", "iso_code", "shapeiso", "iso3166_2"),
        ATTRIBUTION: ("credit", "credits", "copyright"),
    },
}

# --- district names ------------------------------------------------------------
# Place names are data: they live in the gazetteer (minemap.gazetteer and its
# files). These three are kept here for the modules that matched names through
# schema; they ask the active gazetteer.


def fold_name(text: str) -> str:
    """Fold a place name for matching (see :func:`minemap.gazetteer.fold_place`).

    >>> fold_name("Ağdam rayonu"), fold_name("Xankəndi şəhəri"), fold_name("Gubadli District")
    ('agdam', 'xankendi', 'gubadli')
    """
    from minemap.gazetteer import fold_place

    return fold_place(text)


def canonical_district(name: object) -> str | None:
    """Return minemap's district key for a spelling, or ``None`` when unknown.

    Asks the active gazetteer (:func:`minemap.gazetteer.active`): the built-in
    names with those a ``--gazetteer`` file adds.

    >>> canonical_district("Qubadlı"), canonical_district("Agdam District")
    ('Gubadli', 'Aghdam')
    >>> canonical_district("AZ-XA"), canonical_district("Степанакерт")
    ('Khankandi', 'Khankandi')
    """
    from minemap.gazetteer import active

    return active().canonical(name)


def closest_districts(name: str, n: int = 3, *, extra: tuple[str, ...] = ()) -> list[str]:
    """The known district names closest to an unknown spelling (for error messages).

    ``extra`` adds names known only from the data (a districts layer's names).

    >>> closest_districts("Zangillan")
    ['Zangilan']
    """
    from minemap.gazetteer import active

    return active().closest(name, n, extra=extra)


# --- map accuracy, density, priorities ------------------------------------------
DEVICES_NEAR = "devices_near"
DEVICES_INSIDE = "devices_inside"
DEVICES_INSIDE_AP = "devices_inside_ap"
DEVICES_INSIDE_AT = "devices_inside_at"
HIT_RATE = "hit_rate"
HIT_RATE_SHIFTED = "hit_rate_shifted"
FOUND_VS_RECORDED_AP = "found_vs_recorded_ap"
FOUND_VS_RECORDED_AT = "found_vs_recorded_at"
OFFSET_M = "offset_m"
OFFSET_BEARING_DEG = "offset_bearing_deg"
OFFSET_DX_M = "offset_dx_m"
OFFSET_DY_M = "offset_dy_m"
#: Largest distance from the estimated shift to a shift that fits the devices nearly as well.
OFFSET_UNCERTAINTY_M = "offset_uncertainty_m"
#: Why a record has no shift estimate (empty when it has one).
OFFSET_NOTE = "offset_note"
#: What the shift estimate took as searched: "releases" or "record".
OFFSET_SEARCHED = "offset_searched"
#: Devices the shift estimate rests on (inside the searched part at the estimate).
OFFSET_DEVICES = "offset_devices"
IOU = "iou"
SEARCHED_SHARE = "searched_share"
RECORDS = "records"
RECORDS_WITH_DEVICES = "records_with_devices"
RECORDS_SHIFTED = "records_shifted"
#: Records of a roll-up group that have a shift estimate.
RECORDS_WITH_OFFSET = "records_with_offset"
MINES_PER_HA_EST = "mines_per_ha_est"
DIST_SETTLEMENT_M = "dist_settlement_m"
DIST_ROAD_M = "dist_road_m"
ACCIDENTS_NEAR = "accidents_near"
SCORE = "score"
RANK = "rank"

# --- clearance progress, bulletins, forecast --------------------------------------
PERIOD_START = "period_start"
PERIOD_END = "period_end"
UXO = "uxo"
PERIOD = "period"
RELEASED_HA = "released_ha"
CUMULATIVE_RELEASED_HA = "cumulative_released_ha"
REMAINING_HA = "remaining_ha"
BULLETIN_AREA_HA = "bulletin_area_ha"
DIFFERENCE_HA = "difference_ha"
RATE_HA_PER_WEEK = "rate_ha_per_week"
COMPLETION_EARLIEST = "completion_earliest"
COMPLETION_CENTRAL = "completion_central"
COMPLETION_LATEST = "completion_latest"
#: Why a figure of a row is empty (forecast, bulletin comparison).
NOTE = "note"
#: Why a bulletin's figure could not be read (bulletins).
PROBLEM = "problem"
#: Districts a bulletin lists, and districts the release polygons of its days lie in.
BULLETIN_DISTRICTS = "bulletin_districts"
POLYGON_DISTRICTS = "polygon_districts"
#: District and method value meaning "every district" / "every method" in progress tables.
ALL = "all"
#: The progress table has exactly these columns, in this order.
PROGRESS_COLUMNS = (
    PERIOD,
    DISTRICT,
    METHOD,
    RELEASED_HA,
    CUMULATIVE_RELEASED_HA,
    REMAINING_HA,
    ITEMS_AP,
    ITEMS_AT,
    ITEMS_UXO,
)
#: The forecast table begins with exactly these columns, in this order.
FORECAST_COLUMNS = (
    DISTRICT,
    REMAINING_HA,
    RATE_HA_PER_WEEK,
    COMPLETION_EARLIEST,
    COMPLETION_CENTRAL,
    COMPLETION_LATEST,
)

# --- minefield records (minemap.records) ------------------------------------------
#: Day the mines were laid (hazards made from a minefield record).
LAID_ON = "laid_on"
#: Distance in metres between a traverse's closing point and its first point.
MISCLOSURE_M = "misclosure_m"
#: Mine types and counts of a record as text, e.g. "PMN-2 (AP) 120; TM-62M (AT) 60".
MINE_TYPES = "mine_types"
MINE_TYPE = "mine_type"
ROW_ID = "row_id"
POINT_ID = "point_id"
ROLE = "role"
FROMPOINT = "frompoint"
BEARING = "bearing"
BEARING_UNIT = "bearing_unit"
NORTH = "north"
#: True (geodetic) azimuth of a leg in degrees, after unit and north reference.
AZIMUTH_DEG = "azimuth_deg"
DISTANCE_M = "distance_m"
LENGTH_M = "length_m"
GIVEN_AS = "given_as"

# --- the workspace (minemap.store) ------------------------------------------------
# The import log (minemap_imports), one row per file added.
IMPORT_ID = "import_id"
IMPORTED_AT = "imported_at"
KIND = "kind"
FILE = "file"
SHA256 = "sha256"
READ_OPTIONS = "read_options"
READ = "read"
KEPT = "kept"
REJECTED = "rejected"
#: Records an import brought that the workspace did not hold yet.
NEW = "new"
#: Records an import changed: their earlier version is superseded (and kept in the history).
SUPERSEDED = "superseded"
#: Records an import held exactly as the workspace already did.
UNCHANGED = "unchanged"
WARNINGS = "warnings"
MINEMAP_VERSION = "minemap_version"
#: The import log's columns, in this order (``source`` is the import's --source).
IMPORT_COLUMNS = (
    IMPORT_ID,
    IMPORTED_AT,
    KIND,
    FILE,
    SHA256,
    SOURCE,
    READ,
    KEPT,
    REJECTED,
    NEW,
    SUPERSEDED,
    UNCHANGED,
    WARNINGS,
    READ_OPTIONS,
    MINEMAP_VERSION,
)
#: Review of an import (issue 16): ``accepted``, ``pending`` (a submitter's import on a
#: PostgreSQL workspace, until a manager reviews it) or ``rejected`` (by a manager); who
#: made the import (the database role), who reviewed it, when and why.
IMPORT_STATUS = "status"
IMPORTED_BY = "imported_by"
REVIEWED_BY = "reviewed_by"
REVIEWED_AT = "reviewed_at"
REVIEW_REASON = "review_reason"
REVIEW_COLUMNS = (IMPORT_STATUS, IMPORTED_BY, REVIEWED_BY, REVIEWED_AT, REVIEW_REASON)
# Versions of records (<kind>_history): the import that brought a version, the one
# that replaced it, and the --source of the import (a record is its id and this).
SUPERSEDED_BY = "superseded_by"
SUPERSEDED_AT = "superseded_at"
IMPORT_SOURCE = "import_source"
# Rejected features (minemap_rejects).
LAYER = "layer"
FEATURE_ID = "feature_id"
ATTRIBUTES = "attributes"

# --- figures in tables (minemap.outputs.round_figures) ----------------------------
#: Decimals a figure is written with in tables (CSV), by column: what the figure
#: means, not the float's noise. Counts are whole numbers; shares, rates and scores
#: (0 to 1) are kept to 0.001; apportioned mine counts are estimates (0.1).
DECIMALS = {
    **dict.fromkeys((MAPPED_MINES, MAPPED_MINES_AP, MAPPED_MINES_AT, MINES), 1),
    **dict.fromkeys(
        (
            MINES_AP,
            MINES_AT,
            ITEMS_AP,
            ITEMS_AT,
            ITEMS_UXO,
            UXO,
            HAZARDS,
            HAZARDS_UNKNOWN_MINES,
            RECORDS,
            RECORDS_WITH_DEVICES,
            RECORDS_SHIFTED,
            DEVICES_NEAR,
            DEVICES_INSIDE,
            DEVICES_INSIDE_AP,
            DEVICES_INSIDE_AT,
            ACCIDENTS_NEAR,
            RANK,
            "weeks_of_history",
        ),
        0,
    ),
    **dict.fromkeys(
        (
            SHARE_RELEASED,
            REMAINING_SHARE,
            HIT_RATE,
            HIT_RATE_SHIFTED,
            IOU,
            SEARCHED_SHARE,
            FOUND_VS_RECORDED_AP,
            FOUND_VS_RECORDED_AT,
            SCORE,
        ),
        3,
    ),
}
#: Decimals by the end of a column's name (the first that matches wins): hectares to
#: 0.01 ha (a rate in ha per week too), mine densities to 0.01 per ha, mine estimates
#: to 0.1, metres and degrees to 0.1, shares to 0.001.
DECIMALS_BY_SUFFIX = (
    ("_per_ha_est", 2),
    ("_ha_per_week", 2),
    ("_ha", 2),
    ("_est", 1),
    ("_m", 1),
    ("_deg", 1),
    ("_share", 3),
)
#: Decimals by the start of a column's name: the parts of a priority score and their
#: contributions (0 to 1), to 0.001.
DECIMALS_BY_PREFIX = (("part_", 3), ("contrib_", 3))
