"""Pure calculators for spotting duplicates (一事多诉): distance, text similarity, a ranking score.

No database here; `selectors.duplicate_candidates` feeds them rows prefiltered by a bounding box.
"""

import math
import unicodedata

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_RADIUS_M = 250
DEFAULT_DAYS = 7
# Character bigrams of two short Chinese complaints about the same pothole overlap well above this;
# unrelated complaints on the same subject rarely reach it.
TEXT_THRESHOLD = 0.2
METRES_PER_DEGREE_LAT = 111_320.0


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lng: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat) enclosing the circle; a cheap SQL prefilter."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlng = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 1e-6))
    return lng - dlng, lat - dlat, lng + dlng, lat + dlat


def _normalize(text: str) -> str:
    # Punctuation and spaces carry no meaning for "same problem"; full-width and half-width forms are one.
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if ch.isalnum())


def bigrams(text: str) -> frozenset[str]:
    s = _normalize(text)
    if len(s) < 2:
        return frozenset([s]) if s else frozenset()
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def text_similarity(a: str, b: str) -> float:
    return jaccard(bigrams(a), bigrams(b))


def duplicate_score(*, distance_m: float, radius_m: float, age_s: float, window_s: float, similarity: float) -> float:
    """0…1: closer, more recent and more alike ranks higher; text weighs most, then place, then time."""
    near = max(0.0, 1 - distance_m / radius_m) if radius_m > 0 else 0.0
    recent = max(0.0, 1 - age_s / window_s) if window_s > 0 else 0.0
    return round(0.5 * similarity + 0.3 * near + 0.2 * recent, 4)
