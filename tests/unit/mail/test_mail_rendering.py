from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound, UndefinedError

from clinvault.notifications.rendering import (
    TEMPLATE_DIR,
    MailRenderer,
    checked_link,
    format_datetime_utc,
)

EXPIRES = datetime(2025, 3, 3, 14, 5, tzinfo=UTC)


def _invitation(**overrides: object) -> dict[str, object]:
    context: dict[str, object] = {
        "organization_name": "Northside Clinic",
        "inviter_name": "Dr. Ann Lee",
        "roles": ["practitioner", "reviewer"],
        "accept_url": "https://clinvault.test/invitations/accept?token=abc&x=1",
        "expires_at": EXPIRES,
    }
    context.update(overrides)
    return context


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return MailRenderer()


def test_invitation_renders_subject_text_and_html(renderer: MailRenderer) -> None:
    subject, text, html = renderer.render("invitation", **_invitation())

    assert subject == "Dr. Ann Lee invited you to join Northside Clinic on clinvault"
    assert "Dr. Ann Lee has invited you to join Northside Clinic" in text
    assert "practitioner, reviewer" in text
    assert "https://clinvault.test/invitations/accept?token=abc&x=1" in text
    assert "3 March 2025 at 14:05 UTC" in text
    assert text.endswith("\n")
    assert not text.startswith("\n")
    assert "<strong>Northside Clinic</strong>" in html
    assert 'href="https://clinvault.test/invitations/accept?token=abc&amp;x=1"' in html
    assert f"<title>{subject}</title>" in html
    assert "3 March 2025 at 14:05 UTC" in html


@pytest.mark.parametrize("template", ["mfa_enabled", "password_changed", "registration_attempt"])
def test_security_notices_render(renderer: MailRenderer, template: str) -> None:
    subject, text, html = renderer.render(
        template,
        occurred_at=datetime(2025, 1, 9, 8, 0, tzinfo=timezone(timedelta(hours=2))),
        account_url="https://clinvault.test/account/security",
    )

    assert "clinvault" in subject
    assert "\n" not in subject
    assert "9 January 2025 at 06:00 UTC" in text
    assert "https://clinvault.test/account/security" in text
    assert 'href="https://clinvault.test/account/security"' in html


def test_every_template_pair_is_complete() -> None:
    texts = {p.name.removesuffix(".txt.j2") for p in (TEMPLATE_DIR / "mail").glob("[!_]*.txt.j2")}
    htmls = {p.name.removesuffix(".html.j2") for p in (TEMPLATE_DIR / "mail").glob("[!_]*.html.j2")}
    assert texts == htmls
    assert {"invitation", "mfa_enabled", "password_changed", "credential_submitted"} <= texts


def test_html_escapes_values_and_text_keeps_them(renderer: MailRenderer) -> None:
    hostile = 'Evil <script>alert("x")</script> & Co'
    subject, text, html = renderer.render("invitation", **_invitation(organization_name=hostile))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert hostile in text
    assert hostile in subject


def test_subject_is_one_line_even_when_values_contain_line_breaks(renderer: MailRenderer) -> None:
    subject, _, _ = renderer.render(
        "invitation", **_invitation(organization_name="Acme\r\nBcc: victim@example.org")
    )
    assert "\r" not in subject
    assert "\n" not in subject
    assert subject == "Dr. Ann Lee invited you to join Acme Bcc: victim@example.org on clinvault"


def test_missing_variable_raises(renderer: MailRenderer) -> None:
    context = _invitation()
    del context["accept_url"]
    with pytest.raises(UndefinedError, match="accept_url"):
        renderer.render("invitation", **context)


def test_missing_subject_variable_raises(renderer: MailRenderer) -> None:
    context = _invitation()
    del context["inviter_name"]
    with pytest.raises(UndefinedError, match="inviter_name"):
        renderer.render("invitation", **context)


def test_unsafe_links_are_refused(renderer: MailRenderer) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        renderer.render("invitation", **_invitation(accept_url="javascript:alert(1)"))


def test_naive_datetimes_are_refused(renderer: MailRenderer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        renderer.render("invitation", **_invitation(expires_at=datetime(2025, 3, 3, 14, 5)))


@pytest.mark.parametrize("name", ["../secrets", "Invitation", "mail/invitation", ""])
def test_template_names_are_validated(renderer: MailRenderer, name: str) -> None:
    with pytest.raises(ValueError, match="invalid mail template name"):
        renderer.render(name)


def test_unknown_template_raises(renderer: MailRenderer) -> None:
    with pytest.raises(TemplateNotFound):
        renderer.render("no_such_template")


def test_subject_cannot_be_passed_in(renderer: MailRenderer) -> None:
    with pytest.raises(ValueError, match="subject"):
        renderer.render("invitation", subject="x", **_invitation())


def test_a_text_template_without_subject_block_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "bare.txt.j2").write_text("Hello\n")
    (tmp_path / "mail" / "bare.html.j2").write_text("<p>Hello</p>\n")
    with pytest.raises(ValueError, match="block subject"):
        MailRenderer(tmp_path).render("bare")


def test_compose_builds_an_outgoing_mail(renderer: MailRenderer) -> None:
    mail = renderer.compose(
        "invitation", to=["ada@example.org"], idempotency_key="invitation:7", **_invitation()
    )
    assert mail.to == ("ada@example.org",)
    assert mail.idempotency_key == "invitation:7"
    assert mail.subject.startswith("Dr. Ann Lee invited you")
    assert mail.html is not None
    assert "<html" in mail.html


def test_compose_refuses_a_bare_string_recipient(renderer: MailRenderer) -> None:
    with pytest.raises(TypeError, match="sequence of addresses"):
        renderer.compose("invitation", to="ada@example.org", idempotency_key="k", **_invitation())


def test_filters() -> None:
    assert format_datetime_utc(EXPIRES) == "3 March 2025 at 14:05 UTC"
    assert checked_link("http://localhost:8000/x") == "http://localhost:8000/x"
    for bad in ("//example.org/x", "mailto:a@b.c", "https://exa mple.org", "data:text/html,x"):
        with pytest.raises(ValueError, match="mail links"):
            checked_link(bad)
