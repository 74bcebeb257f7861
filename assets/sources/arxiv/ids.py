"""arXiv ids: `normalize_arxiv_id` reads any reference (bare id, `arXiv:` prefix, abs/pdf/html URL,
arXiv DOI, with or without version) strictly, so a malformed id is never sent to the API."""

from __future__ import annotations

import re

# --- ids ---------------------------------------------------------------------------------------

# Archives of pre-April-2007 identifiers (`archive/YYMMNNN`), as listed by arXiv.
OLD_STYLE_ARCHIVES = frozenset({
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "q-fin", "quant-ph", "solv-int", "supr-con",
})

_ID = (
    r"(?P<new>\d{4}\.\d{4,5})"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]{2}))?/(?P<old>\d{7})"
)
_VERSION = r"(?:v(?P<version>\d{1,3}))?"
_BARE = re.compile(rf"(?:{_ID}){_VERSION}", re.IGNORECASE)
_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|ps)/(?:{_ID}){_VERSION}"
    r"(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PREFIXED = re.compile(rf"^arxiv\s*:\s*(?:{_ID}){_VERSION}$", re.IGNORECASE)
_DOI = re.compile(
    rf"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.(?:{_ID}){_VERSION}$", re.IGNORECASE
)


def _valid_new(number: str) -> bool:
    yymm, serial = number.split(".")
    month = int(yymm[2:])
    if not 1 <= month <= 12 or int(serial) == 0:
        return False
    if len(serial) == 4:           # 0704 (April 2007, the first new-style month) to 1412
        return 704 <= int(yymm) <= 1412
    return int(yymm) >= 1501       # five-digit serials from January 2015 on


def _valid_old(archive: str, number: str) -> bool:
    if archive not in OLD_STYLE_ARCHIVES:
        return False
    year, month, serial = int(number[:2]), int(number[2:4]), int(number[4:])
    return (year >= 91 or year <= 7) and 1 <= month <= 12 and serial > 0


def normalize_arxiv_id(text: object) -> tuple[str, int | None] | None:
    """`(arxiv_id without version, version or None)` for a reference to one arXiv paper, else None.

    Accepts `1911.02116`, `1911.02116v2`, `arXiv:1911.02116`, `https://arxiv.org/abs/1911.02116v2`,
    `arxiv.org/pdf/1911.02116v2.pdf`, `10.48550/arXiv.1911.02116`, `hep-th/9901001`,
    `math.GT/0309136` (the subject class is dropped: the id is `math/0309136`). Old-style archives
    are lower case, new-style ids are validated for month and serial width.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 500:
        return None
    match = _BARE.fullmatch(text) or _PREFIXED.match(text) or _URL.match(text) or _DOI.match(text)
    if match is None:
        return None
    version = int(match["version"]) if match["version"] else None
    if version == 0:
        return None
    if match["new"]:
        return (match["new"], version) if _valid_new(match["new"]) else None
    archive = match["archive"].lower()
    if not _valid_old(archive, match["old"]):
        return None
    return f"{archive}/{match['old']}", version


def split_version(short_id: str) -> tuple[str, int | None]:
    """`2104.12255v1` -> (`2104.12255`, 1); `astro-ph/0601001v1` -> (`astro-ph/0601001`, 1)."""
    match = re.fullmatch(r"(.+?)v(\d+)", short_id)
    return (match[1], int(match[2])) if match else (short_id, None)


