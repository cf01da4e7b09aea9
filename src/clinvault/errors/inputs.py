"""Input shape problems found before any feature sees the data: JSON that cannot be taken."""

from __future__ import annotations

from clinvault.errors.base import AppError, BodyMalformed, BodyTooLarge


class JsonRejected(BodyMalformed, ValueError):
    """A JSON document the bounded parser refuses; also a ValueError for non-HTTP callers."""

    code = "body_malformed"
    title = "The request body could not be read"


class JsonTooDeep(JsonRejected):
    code = "json_too_deep"
    title = "The JSON document is nested too deeply"


class JsonTooLarge(BodyTooLarge, ValueError):
    code = "json_too_large"
    title = "The JSON document is too large"


class QueryParameterUnknown(AppError):
    """A query parameter the route does not take: refused rather than silently ignored."""

    status = 400
    code = "query_parameter_unknown"
    title = "The request has a query parameter this route does not know"
