"""The scorer's results as the database keeps them: Score, Delivery and Transcript to JSON and back.

The only place that builds or reads those JSON documents. Score and Delivery go through pydantic's
TypeAdapter on their own dataclasses, so a stored score is the dataclass's fields (a key point with its
text, terms and follow-up) and a loaded one is a `Score` again; nothing computed is stored. Coaching
sentences are `Delivery.feedback()`, worked out when shown, so every attempt reads in today's wording.

A behavioural answer's score carries which STAR parts it has (`Score.structure`); rows from before, and
other questions' rows, have none, and a damaged one is dropped rather than hiding the score.

A transcript corrected by hand carries the words first heard as `original` (see `Transcript.corrected`);
rows from before have none. Rows written before (by `Assessment.to_dict()`) load too: their key points
carry only their text (plus the time it was said, which the transcript gives again), the follow-up
question stands beside them, and the delivery carries its feedback and filler counts (ignored: both come
from the numbers).
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from practice.scoring.delivery import Delivery
from practice.transcript import Transcript

if TYPE_CHECKING:
    from practice.scoring.results import Score

log = logging.getLogger(__name__)


@cache
def _score_adapter() -> TypeAdapter[Score]:
    """Made on the first score read or written, so importing the store (the login form does) does not load
    the scorer's module, numpy and its models' code."""
    from practice.scoring.results import Score

    return TypeAdapter(Score)


_DELIVERY = TypeAdapter(Delivery)
# What a stored delivery may leave out (none of today's rows do); duration and word_count it must have.
_DELIVERY_DEFAULTS: dict[str, Any] = {
    "speaking_time": 0.0,
    "wpm": None,
    "pace": None,
    "pace_windows": [],
    "fillers": [],
    "fillers_per_100": 0.0,
    "long_pauses": [],
    "longest_pause": None,
    "time_to_first_word": None,
    "top_words": [],
    "domain_terms_used": [],
    "domain_terms_missed": [],
    "long_pause": 2.0,
}


def _json(adapter: TypeAdapter[Any], value: Any) -> Any:
    """Plain JSON: numpy scalars as Python numbers, NaN and infinity as null."""
    text = adapter.dump_json(value, fallback=_number, warnings=False)
    return json.loads(text)


def _number(value: Any) -> Any:
    item = getattr(value, "item", None)  # a numpy scalar
    return item() if callable(item) else str(value)


def dump_score(score: Score) -> dict[str, Any]:
    from practice.scoring.results import Score

    if not isinstance(score, Score):
        raise ValueError(f"The score must be a Score, not {type(score).__name__}.")
    return _json(_score_adapter(), score)


def dump_delivery(delivery: Delivery) -> dict[str, Any]:
    if not isinstance(delivery, Delivery):
        raise ValueError(f"The delivery must be a Delivery, not {type(delivery).__name__}.")
    return _json(_DELIVERY, delivery)


def dump_transcript(transcript: Transcript) -> dict[str, Any]:
    return transcript.to_dict()


def load_score(data: Any) -> Score | None:
    """The stored score, today's shape or the old one; None if there is none or it is damaged."""
    if data is None:
        return None
    try:
        return _score_adapter().validate_python(_upgrade_score(data))
    except (ValidationError, TypeError, ValueError):
        pass
    if isinstance(data, dict) and data.get("structure") is not None:  # the score itself may still be fine
        log.warning("a stored answer structure could not be read; the score is shown without it")
        return load_score({**data, "structure": None})
    log.warning("a stored score could not be read; the attempt is shown without it")
    return None


def load_delivery(data: Any) -> Delivery | None:
    """The stored delivery; None if there is none or it is damaged."""
    if data is None:
        return None
    try:
        if not isinstance(data, dict):
            raise TypeError("a delivery is a JSON object")
        return _DELIVERY.validate_python({**_DELIVERY_DEFAULTS, **data})
    except (ValidationError, TypeError, ValueError):
        log.warning("a stored delivery could not be read; the attempt is shown without it")
        return None


def load_transcript(data: Any) -> Transcript | None:
    """The stored transcript, with the words first heard if it was corrected by hand (rows written before
    corrections existed have none); None if there is none or it is damaged."""
    if not isinstance(data, dict):
        return None
    try:
        return Transcript.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    if "original" in data:  # the words first heard are damaged: the transcript as corrected still shows
        log.warning("a corrected transcript's original words could not be read; shown without them")
        return load_transcript({k: v for k, v in data.items() if k != "original"})
    return None  # a damaged transcript should not hide the rest of the attempt


def _upgrade_score(data: Any) -> Any:
    """A score in the shape `Assessment.to_dict()` wrote turned into today's; today's passes unchanged.

    Old key points are {"text", "status", "similarity", "score", "evidence", "contradicted", "said_at"}
    beside a top-level "follow_up": the first missed (else partial) point's follow-up question. That
    question goes back on the first missed (else partial) point, which gives the same follow-up.
    """
    if not isinstance(data, dict):
        raise TypeError("a score is a JSON object")
    points = data.get("key_points")
    if not isinstance(points, list) or not any(isinstance(p, dict) and "text" in p for p in points):
        return data
    upgraded = [_upgrade_point(p) for p in points]
    follow_up = data.get("follow_up")
    if isinstance(follow_up, str) and follow_up:
        for wanted in ("missed", "partial"):
            asked = next((p for p in upgraded if isinstance(p, dict) and p.get("status") == wanted), None)
            if asked is not None:
                asked["key_point"]["follow_up"] = follow_up
                break
    rest = {k: v for k, v in data.items() if k not in ("key_points", "follow_up")}
    return {"question_id": "", "word_count": 0, **rest, "key_points": upgraded}


def _upgrade_point(point: Any) -> Any:
    """{"text", "status", ...} -> {"key_point": {"text"}, "status", ...}; its time is the transcript's."""
    if not isinstance(point, dict) or "key_point" in point:
        return point
    kept = {k: v for k, v in point.items() if k not in ("text", "said_at")}
    defaults = {"similarity": 0.0, "score": 0.0, "evidence": None}
    return {**defaults, **kept, "key_point": {"text": point.get("text")}}
