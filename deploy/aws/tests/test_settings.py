"""Deployment settings from CDK context: defaults, coercion and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from clinvault_deploy.settings import DEFAULT_TAGS, DeploySettings


def _from(context: dict[str, Any]) -> DeploySettings:
    return DeploySettings.from_context(context.get)


def test_defaults_synthesize_offline() -> None:
    settings = _from({})
    assert settings.min_tasks >= 2
    assert settings.tags == DEFAULT_TAGS


def test_sender_address_is_taken_from_the_display_form() -> None:
    assert _from({}).sender_address == "no-reply@example.org"
    assert _from({"mailFrom": "ops@example.org"}).sender_address == "ops@example.org"


def test_context_values_are_coerced_from_strings() -> None:
    settings = _from(
        {
            "minTasks": "3",
            "maxTasks": "9",
            "cognito": "true",
            "availabilityZones": "us-east-1a,us-east-1b,us-east-1c",
            "tags": '{"Team": "records", "Environment": "staging"}',
        }
    )
    assert (settings.min_tasks, settings.max_tasks, settings.cognito) == (3, 9, True)
    assert settings.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert settings.tags == {"Team": "records", "Environment": "staging"}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"minTasks": 1}, "minTasks must be at least 2"),
        ({"minTasks": 4, "maxTasks": 3}, "maxTasks must be at least minTasks"),
        ({"availabilityZones": ["eu-west-1a"]}, "at least two zones"),
        ({"publicUrl": "http://clinvault.example.org"}, "https://"),
        ({"tags": {"Owner": ""}}, "non-empty value"),
        ({"mailFrom": "clinvault <no-reply@elsewhere.org>"}, "not in the SES identity domain"),
    ],
)
def test_impossible_settings_are_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _from(context)
