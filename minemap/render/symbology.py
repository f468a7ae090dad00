"""Colours, line styles, class breaks and number formats of minemap's maps.

Settings are plain module attributes (change them before rendering). Styles
are dictionaries of Leaflet path options (``color``, ``weight``,
``dashArray``, ``fillColor``, ``fillOpacity``...).

Hazards follow the usual mine-action convention: confirmed hazardous areas
(CHA) red, suspected hazardous areas (SHA) amber, half transparent, with the
outline telling the status of the task. Released land is green, darker as the
method gets more thorough (cancelled by non-technical survey, reduced by
technical survey, cleared). Districts are shaded in a blue-grey ramp that
stays behind the red and amber.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from minemap import schema as s

__all__ = [
    "CHA_FILL",
    "DISTRICT_NO_DATA",
    "DISTRICT_RAMP",
    "HAZARD_FILL_OPACITY",
    "HAZARD_RAMP",
    "RELEASE_STYLES",
    "SHA_FILL",
    "STATUS_OUTLINES",
    "SUBMITTED_STYLE",
    "class_breaks",
    "class_index",
    "district_style",
    "format_area",
    "format_count",
    "format_date",
    "format_share",
    "hazard_style",
    "is_missing",
    "ramp_hazard",
    "release_style",
]

CHA_FILL = "#FF0000"
SHA_FILL = "#F4A718"
#: Fill of hazards whose classification is not recorded.
UNCLASSIFIED_FILL = "#9E6B8A"
HAZARD_FILL_OPACITY = 0.5
HAZARD_FILLS = {"CHA": CHA_FILL, "SHA": SHA_FILL}

#: Outline of a remaining hazard by task status.
STATUS_OUTLINES = {
    "open": {"color": "#C00000", "weight": 2, "dashArray": None},
    "worked_on": {"color": "#FF8C00", "weight": 2.5, "dashArray": "6 4"},
    "closed": {"color": "#1A9641", "weight": 2, "dashArray": None},
}
UNKNOWN_STATUS_OUTLINE = {"color": "#444444", "weight": 1.5, "dashArray": None}

#: Released land by method, from the least to the most thorough.
RELEASE_STYLES = {
    "cancelled": {
        "color": "#4D9221",
        "weight": 1.5,
        "dashArray": "2 4",
        "fillColor": "#D9F0A3",
        "fillOpacity": 0.55,
    },
    "reduced": {
        "color": "#2E7D32",
        "weight": 1.5,
        "dashArray": "8 4",
        "fillColor": "#78C679",
        "fillOpacity": 0.6,
    },
    "cleared": {
        "color": "#00441B",
        "weight": 1.5,
        "dashArray": None,
        "fillColor": "#238443",
        "fillOpacity": 0.65,
    },
}
UNKNOWN_RELEASE_STYLE = {
    "color": "#555555",
    "weight": 1.5,
    "dashArray": "2 2",
    "fillColor": "#BBBBBB",
    "fillOpacity": 0.5,
}
RELEASE_LABELS = {
    "cancelled": "cancelled (non-technical survey)",
    "reduced": "reduced (technical survey)",
    "cleared": "cleared",
}

#: The maps as submitted: outline only.
SUBMITTED_STYLE = {
    "color": "#222222",
    "weight": 1.5,
    "dashArray": "4 3",
    "fill": False,
    "fillOpacity": 0,
}

#: Sequential ramp of remaining hectares per district, light to dark.
DISTRICT_RAMP = ("#DCE6F0", "#BACCDF", "#96B1CD", "#7295BA", "#4F78A3", "#2F5A87")
#: Districts with no remaining hazardous ground.
DISTRICT_NO_DATA = "#F7F7F7"
DISTRICT_OUTLINE = {"color": "#4D4D4D", "weight": 1.2, "fillOpacity": 0.6, "dashArray": None}
#: Most classes in the district choropleth.
DISTRICT_CLASSES = 5


def is_missing(value: object) -> bool:
    """Whether a cell holds no value (``None``, NaN, NaT, ``pd.NA`` or blank text)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def hazard_style(classification: object, status: object) -> dict:
    """Leaflet style of a remaining hazard.

    Parameters
    ----------
    classification
        ``"CHA"``, ``"SHA"`` or missing.
    status
        ``"open"``, ``"worked_on"``, ``"closed"`` or missing.

    Returns
    -------
    dict
        Fill by classification, outline by status.

    Examples
    --------
    >>> hazard_style("CHA", "worked_on")["fillColor"], hazard_style("CHA", "worked_on")["dashArray"]
    ('#FF0000', '6 4')
    """
    fill = HAZARD_FILLS.get(str(classification).strip().upper(), UNCLASSIFIED_FILL)
    outline = STATUS_OUTLINES.get(str(status).strip().lower(), UNKNOWN_STATUS_OUTLINE)
    return {**outline, "fillColor": fill, "fillOpacity": HAZARD_FILL_OPACITY}


def release_style(method: object) -> dict:
    """Leaflet style of released land by method (``cancelled``, ``reduced``, ``cleared``)."""
    return dict(RELEASE_STYLES.get(str(method).strip().lower(), UNKNOWN_RELEASE_STYLE))


def _nice(value: float) -> float:
    """Round to two significant figures (1,234 -> 1,200; 0.0456 -> 0.046)."""
    if value <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(value))
    return round(value, digits)


def _nice_ceil(value: float) -> float:
    if value <= 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / step - 1e-9) * step


def class_breaks(values, classes: int = DISTRICT_CLASSES) -> list[float]:
    """Upper bounds of choropleth classes of positive values.

    Quantile breaks rounded to two significant figures, duplicates removed; the
    last bound is the maximum rounded up, so every positive value has a class.

    Parameters
    ----------
    values
        Numbers; zero, negative and missing values are left out (they get the
        "none" colour).
    classes
        Most classes wanted.

    Returns
    -------
    list of float
        Increasing upper bounds; empty when no value is positive.

    Examples
    --------
    >>> class_breaks([10, 200, 3000, 45000, 0], classes=4)
    [150.0, 1600.0, 14000.0, 45000.0]
    """
    arr = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(dtype=float)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if not len(arr):
        return []
    k = max(1, min(classes, len(np.unique(arr))))
    inner = [_nice(float(q)) for q in np.quantile(arr, np.arange(1, k) / k)]
    top = _nice_ceil(float(arr.max()))
    return sorted({b for b in inner if 0 < b < top} | {top})


def class_index(value: object, breaks: list[float]) -> int | None:
    """Class of a value given :func:`class_breaks` (``None`` for zero or missing)."""
    if is_missing(value):
        return None
    number = float(value)  # type: ignore[arg-type]
    if number <= 0 or not breaks:
        return None
    for i, upper in enumerate(breaks):
        if number <= upper:
            return i
    return len(breaks) - 1


def ramp(n: int) -> list[str]:
    """``n`` colours spread over :data:`DISTRICT_RAMP`, light to dark."""
    if n <= 0:
        return []
    if n == 1:
        return [DISTRICT_RAMP[-2]]
    last = len(DISTRICT_RAMP) - 1
    return [DISTRICT_RAMP[round(i * last / (n - 1))] for i in range(n)]


#: Ramp of the public map's grid cells (remaining hectares), light to dark red.
HAZARD_RAMP = ("#FEE5D9", "#FCAE91", "#FB6A4A", "#DE2D26", "#A50F15")


def ramp_hazard(n: int) -> list[str]:
    """``n`` colours spread over :data:`HAZARD_RAMP`, light to dark."""
    if n <= 0:
        return []
    if n == 1:
        return [HAZARD_RAMP[-2]]
    last = len(HAZARD_RAMP) - 1
    return [HAZARD_RAMP[round(i * last / (n - 1))] for i in range(n)]


def district_style(value: object, breaks: list[float]) -> dict:
    """Leaflet style of a district shaded by its remaining hectares."""
    index = class_index(value, breaks)
    fill = DISTRICT_NO_DATA if index is None else ramp(len(breaks))[index]
    return {**DISTRICT_OUTLINE, "fillColor": fill}


def format_area(hectares: object) -> str:
    """Hectares with thousands separators (``"12,345.6 ha"``; two decimals under 10 ha)."""
    if is_missing(hectares):
        return ""
    value = float(hectares)  # type: ignore[arg-type]
    return f"{value:,.2f} ha" if abs(value) < 10 else f"{value:,.1f} ha"


def format_count(count: object) -> str:
    """A count rounded to a whole number, with thousands separators (``"97,000"``)."""
    if is_missing(count):
        return ""
    return f"{round(float(count)):,}"  # type: ignore[arg-type]


def format_share(share: object) -> str:
    """A fraction as a percentage (``0.253`` -> ``"25.3 %"``)."""
    if is_missing(share):
        return ""
    return f"{100 * float(share):,.1f} %"  # type: ignore[arg-type]


def format_date(value: object) -> str:
    """A date as ``YYYY-MM-DD``; text that is not a date is returned as it is."""
    if is_missing(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date().isoformat()
    return str(value).strip()


def method_label(method: str) -> str:
    """Legend text of a release method."""
    return RELEASE_LABELS.get(method, method)


# The enumerations the legend lists, from schema so they stay in step.
HAZARD_CLASSES = s.HAZARD_CLASSIFICATIONS
HAZARD_STATUSES = s.HAZARD_STATUSES
RELEASE_METHODS = s.RELEASE_METHODS
