"""How the audit viewer puts events into words: tables only, no logic.

`ACTIONS` maps an audited action to two phrases: what the actor did (past
tense, for a success) and what the actor tried to do (infinitive, for a
refusal or a failure). `{resource}` stands for the resource's reference, such
as "patient P-3F9A0C12": an id, never a name or any other PHI value.
`SIGN_IN_ACTIONS` are told from the point of view of the sign-in, with
`REASONS` naming why it was refused (the event's detail code). An action
missing here is shown by its name; `tests/unit/audit/test_audit_wording.py`
checks that every entry names an action that exists.
"""

from __future__ import annotations

from types import MappingProxyType

ACTIONS = MappingProxyType(
    {
        # Patients, records and appointments
        "portal.patient.read": ("opened the chart of {resource}", "open the chart of {resource}"),
        "portal.patient.list": ("listed patients", "list patients"),
        "portal.patient.new": ("opened the patient registration form", "register a patient"),
        "portal.patient.create": ("registered a patient", "register a patient"),
        "portal.my_chart.read": ("opened their own chart", "open their own chart"),
        "portal.record.new": ("opened a new record form for {resource}", "add a record"),
        "portal.record.create": ("added a record to {resource}", "add a record to {resource}"),
        "portal.appointment.list": ("listed appointments", "list appointments"),
        "portal.appointment.new": ("opened the booking form", "book an appointment"),
        "portal.appointment.book": ("booked {resource}", "book an appointment"),
        "portal.appointment.cancel": ("cancelled {resource}", "cancel {resource}"),
        "records.patient.read": ("read {resource} through the API", "read {resource}"),
        "records.patient.list": ("listed patients through the API", "list patients"),
        "records.patient.search": ("searched patients", "search patients"),
        "records.patient.create": ("registered a patient", "register a patient"),
        "records.patient.update": ("updated {resource}", "update {resource}"),
        "records.patient.link_user": ("linked an account to {resource}", "link an account"),
        "records.record.read": ("read {resource}", "read {resource}"),
        "records.record.list": ("listed records", "list records"),
        "records.record.list_for_patient": ("listed the records of {resource}", "list records"),
        "records.record.list_of_patient": ("listed the records of {resource}", "list records"),
        "records.record.create": ("added {resource}", "add a record"),
        "records.record.amend": ("amended {resource}", "amend {resource}"),
        "records.attachment.read": ("opened {resource}", "open {resource}"),
        "records.attachment.create": ("attached a file to a record", "attach a file"),
        "records.appointment.book": ("booked {resource}", "book an appointment"),
        "records.appointment.cancel": ("cancelled {resource}", "cancel {resource}"),
        "records.appointment.reschedule": ("rescheduled {resource}", "reschedule {resource}"),
        "records.appointment.read": ("read {resource}", "read {resource}"),
        "records.appointment.list": ("listed appointments", "list appointments"),
        # Prescriptions
        "portal.rx.read": ("opened {resource}", "open {resource}"),
        "portal.rx.create": ("wrote {resource}", "write a prescription"),
        "portal.rx.sign": ("signed {resource}", "sign {resource}"),
        "portal.rx.pdf": ("downloaded {resource} as PDF", "download {resource}"),
        "portal.rx.dispense": ("dispensed {resource}", "dispense {resource}"),
        "portal.rx.decline": ("declined {resource}", "decline {resource}"),
        "prescriptions.read": ("read {resource}", "read {resource}"),
        "prescriptions.create": ("wrote {resource}", "write a prescription"),
        "prescriptions.sign": ("signed {resource}", "sign {resource}"),
        "prescriptions.dispense": ("dispensed {resource}", "dispense {resource}"),
        # Credentials
        "portal.credentials.upload.submit": ("submitted credentials", "submit credentials"),
        "portal.credentials.document": ("opened {resource}", "open {resource}"),
        "portal.credentials.content": ("viewed the file of {resource}", "view {resource}"),
        "portal.credentials.decide": ("decided on {resource}", "decide on {resource}"),
        "portal.credentials.review_queue": ("opened the review queue", "open the review queue"),
        "credentials.submissions.create": ("submitted credentials", "submit credentials"),
        "credentials.documents.decide": ("decided on {resource}", "decide on {resource}"),
        "credentials.documents.content": ("downloaded {resource}", "download {resource}"),
        # Care plans and imports
        "portal.cp.read": ("opened {resource}", "open {resource}"),
        "portal.cp.create": ("wrote {resource}", "write a care plan"),
        "portal.cp.update": ("updated {resource}", "update {resource}"),
        "portal.cp.share": ("shared {resource}", "share {resource}"),
        "careplans.read": ("read {resource}", "read {resource}"),
        "careplans.create": ("wrote {resource}", "write a care plan"),
        "careplans.update": ("updated {resource}", "update {resource}"),
        "portal.ingest.submit": ("started a patient import", "start a patient import"),
        "ingest.upload.complete": ("started a patient import", "start a patient import"),
        "ingest.job.error_report": ("downloaded an import's error report", "download a report"),
        # Accounts and administration
        "auth.logout": ("signed out", "sign out"),
        "portal.logout": ("signed out", "sign out"),
        "auth.refresh": ("renewed a session", "renew a session"),
        "auth.register": ("registered an account", "register an account"),
        "auth.password.change": ("changed their password", "change their password"),
        "auth.mfa.enroll": ("started two-factor set-up", "set up two-factor sign-in"),
        "auth.mfa.verify": ("turned on two-factor sign-in", "turn on two-factor sign-in"),
        "portal.mfa.verify": ("turned on two-factor sign-in", "turn on two-factor sign-in"),
        "auth.mfa.disable": ("turned off two-factor sign-in", "turn off two-factor sign-in"),
        "portal.mfa.disable": ("turned off two-factor sign-in", "turn off two-factor sign-in"),
        "portal.profile": ("opened their profile", "open their profile"),
        "portal.home": ("opened the home page", "open the home page"),
        "portal.user.list": ("listed the members", "list the members"),
        "portal.user.create": ("created {resource}", "create an account"),
        "portal.user.roles": ("changed the roles of {resource}", "change roles"),
        "portal.user.deactivate": ("deactivated {resource}", "deactivate {resource}"),
        "portal.user.activate": ("reactivated {resource}", "reactivate {resource}"),
        "portal.invite.submit": ("invited a new member", "invite a member"),
        "users.create": ("created {resource}", "create an account"),
        "users.update": ("changed {resource}", "change {resource}"),
        "users.deactivate": ("deactivated {resource}", "deactivate {resource}"),
        "users.activate": ("reactivated {resource}", "reactivate {resource}"),
        "invitations.create": ("invited a new member", "invite a member"),
        "portal.audit.logs": ("read the audit log", "read the audit log"),
        "audit.logs.list": ("read the audit log", "read the audit log"),
        "audit.summary": ("read the audit summary", "read the audit summary"),
        "audit.suspicious": ("read the suspicious-activity report", "read that report"),
        "portal.notifications": ("read their notifications", "read notifications"),
    }
)

# Actions told as a sign-in: "Sign-in refused: wrong password".
SIGN_IN_ACTIONS = frozenset(
    {"auth.login", "auth.login_mfa", "portal.login.submit", "portal.login.mfa", "auth.token"}
)
SIGNED_IN = "{actor} signed in"
SIGN_IN_STEP = "{actor} entered the right password; the two-factor code was due next"
SIGN_IN_REFUSED = "Sign-in refused: {reason}"
SOURCE_THROTTLED = "Sign-ins from {address} slowed down after repeated failures"

REASONS = MappingProxyType(
    {
        "password_mismatch": "wrong password",
        "unknown_account": "no account has this email",
        "account_locked": "account locked after repeated failures",
        "source_throttled": "too many failures from this network address",
        "mfa_invalid": "wrong two-factor code",
        "mfa_replayed": "two-factor code already used",
        "recovery_code_invalid": "wrong recovery code",
        "account_disabled": "account disabled",
        "organization_inactive": "organization suspended",
        "client_credentials_invalid": "wrong client credentials",
    }
)
DEFAULT_REASON = "not accepted"

# Readable nouns and reference prefixes of resource types.
RESOURCES = MappingProxyType(
    {
        "patient": ("patient", "P"),
        "medical_record": ("record", "R"),
        "record_attachment": ("record attachment", "F"),
        "appointment": ("appointment", "A"),
        "prescription": ("prescription", "RX"),
        "care_plan": ("care plan", "CP"),
        "credential_document": ("credential document", "D"),
        "credential_submission": ("credential submission", "S"),
        "user": ("account", "U"),
        "invitation": ("invitation", "I"),
        "ingest_job": ("import", "J"),
    }
)

# How a non-success is introduced, by outcome.
REFUSED = "{actor} was refused when trying to {attempt}"
FAILED = "{actor} could not {attempt}"
UNKNOWN_ACTION = "{actor} made a request ({action})"
SOMEONE = "Someone not signed in"
