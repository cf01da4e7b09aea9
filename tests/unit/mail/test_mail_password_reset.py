"""The password-reset message: the link, its lifetime, and nothing about the account."""

from __future__ import annotations

from datetime import UTC, datetime

from clinvault.notifications.rendering import MailRenderer


def test_password_reset_renders_the_link_and_its_expiry() -> None:
    subject, text, html = MailRenderer().render(
        "password_reset",
        reset_url="https://clinvault.test/reset-password/abc_DEF-123",
        expires_at=datetime(2025, 3, 3, 14, 35, tzinfo=UTC),
        minutes=30,
    )
    assert subject == "Reset your clinvault password"
    assert "https://clinvault.test/reset-password/abc_DEF-123" in text
    assert "expires after 30 minutes, on 3 March 2025 at 14:35 UTC" in text
    assert "If it was not you, ignore this message" in text
    assert 'href="https://clinvault.test/reset-password/abc_DEF-123"' in html
    assert "30 minutes" in html
