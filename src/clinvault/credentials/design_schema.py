"""OpenAPI schema of the credential-upload design's JSON submission body.

The route reads that body as a stream (`json_upload`), so FastAPI cannot
derive its schema; this is the published description, kept beside the model
it describes (`design_request.DesignDocument`).
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "minLength": 1}

DESIGN_METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["documentNumber", "issueDate", "issuedBy"],
    "properties": {
        "documentNumber": {**_TEXT, "maxLength": 64, "description": "Document number."},
        "issueDate": {"type": "string", "format": "date", "description": "Issue date."},
        "expiryDate": {
            "type": ["string", "null"],
            "format": "date",
            "description": "Expiry date (all categories but curriculum_vitae need one).",
        },
        "issuedBy": {**_TEXT, "maxLength": 200, "description": "Issuing authority."},
    },
}

DESIGN_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "category", "content", "metadata"],
    "properties": {
        "providerId": {
            "type": ["string", "integer", "null"],
            "description": "Optional; when given it must be the signed-in user's id (403 "
            "otherwise). The provider is always the signed-in user.",
        },
        "providerEmail": {
            "type": ["string", "null"],
            "description": "Optional; when given it must be the signed-in user's email.",
        },
        "providerName": {
            "type": ["string", "null"],
            "maxLength": 200,
            "description": "Optional and informative only.",
        },
        "name": {**_TEXT, "maxLength": 255, "description": "File name."},
        "type": {
            "type": ["string", "null"],
            "maxLength": 127,
            "description": "Declared media type, checked against the decoded bytes.",
        },
        "size": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Declared size in bytes, checked against the decoded bytes.",
        },
        "category": {
            "type": "string",
            "pattern": "^[A-Za-z][A-Za-z0-9_]{1,63}$",
            "description": "A category code in any case (MEDICAL_LICENSE, medical_license).",
        },
        "content": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "The file as standard base64 (RFC 4648, padded).",
        },
        "metadata": DESIGN_METADATA_SCHEMA,
    },
}

DESIGN_BODY_SCHEMA: dict[str, Any] = {
    "oneOf": [
        DESIGN_DOCUMENT_SCHEMA,
        {"type": "array", "minItems": 1, "items": DESIGN_DOCUMENT_SCHEMA},
    ],
    "description": "One document, or an array of them submitted together.",
}
