"""Care plans: plans, versions, concurrent updates."""

from __future__ import annotations

from clinvault.errors.base import (
    AppError,
    BodyTooLarge,
    Conflict,
    NotFound,
    PermissionDenied,
    RequestInvalid,
    UnsupportedMediaType,
)


class CarePlanNotFound(NotFound):
    code = "care_plan_not_found"
    title = "Care plan not found"


class CarePlanVersionNotFound(NotFound):
    code = "care_plan_version_not_found"
    title = "Care plan version not found"


class CarePlanInvalid(RequestInvalid):
    code = "care_plan_invalid"
    title = "The care plan is not valid"


class CarePlanChanged(AppError):
    """The update was based on an older version: someone else changed the plan meanwhile."""

    status = 412
    code = "care_plan_changed"
    title = "The care plan changed meanwhile"


class CarePlanVersionRequired(AppError):
    status = 428
    code = "care_plan_version_required"
    title = "Say which version the change is based on"


class CarePlanShareNotFound(NotFound):
    code = "care_plan_share_not_found"
    title = "Share not found"


class CarePlanShareInvalid(RequestInvalid):
    code = "care_plan_share_invalid"
    title = "The share is not valid"


class CarePlanLevelTooHigh(PermissionDenied):
    code = "care_plan_level_too_high"
    title = "A share may not give more than the sharer holds"


class CarePlanCommentNotFound(NotFound):
    code = "care_plan_comment_not_found"
    title = "Comment not found"


class CarePlanCommentInvalid(RequestInvalid):
    code = "care_plan_comment_invalid"
    title = "The comment is not valid"


class CarePlanCommentLocked(Conflict):
    code = "care_plan_comment_locked"
    title = "The comment can no longer be edited"


class CarePlanAttachmentNotFound(NotFound):
    code = "care_plan_attachment_not_found"
    title = "Attached document not found"


class CarePlanAttachmentRejected(RequestInvalid):
    """The file's bytes failed a check (`errors` carries the filecheck codes)."""

    code = "care_plan_attachment_rejected"
    title = "The document was rejected"


class CarePlanAttachmentType(UnsupportedMediaType):
    code = "care_plan_attachment_type"
    title = "The document's type is not accepted"


class CarePlanAttachmentTooLarge(BodyTooLarge):
    code = "care_plan_attachment_too_large"
    title = "The document is too large"
