"""The synthesized template has the properties the deployment promises."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from clinvault_deploy.settings import DEFAULT_TAGS, DeploySettings

DEFAULTS = DeploySettings()


@pytest.fixture(scope="module")
def template(template_json: dict[str, Any]) -> Template:
    return Template.from_json(template_json)


def _resources(template_json: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template_json["Resources"].items()
        if resource["Type"] == kind
    }


def _one(template_json: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = _resources(template_json, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    name, resource = next(iter(found.items()))
    return name, resource["Properties"]


def _key(template_json: dict[str, Any]) -> str:
    return _one(template_json, "AWS::KMS::Key")[0]


def _container(template_json: dict[str, Any]) -> dict[str, Any]:
    definitions = _one(template_json, "AWS::ECS::TaskDefinition")[1]["ContainerDefinitions"]
    assert len(definitions) == 1
    container: dict[str, Any] = definitions[0]
    return container


def _environment(template_json: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in _container(template_json)["Environment"]}


# --- network -----------------------------------------------------------------------------


def test_tasks_database_and_volume_live_in_private_subnets(template_json: dict[str, Any]) -> None:
    subnets = _resources(template_json, "AWS::EC2::Subnet")
    public = {n for n, r in subnets.items() if n.startswith("Vpcpublic")}
    private = set(subnets) - public
    assert len(public) == 2
    assert len(private) == 4
    assert all(r["Properties"]["MapPublicIpOnLaunch"] is False for r in subnets.values())
    service = _one(template_json, "AWS::ECS::Service")[1]
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert {ref["Ref"] for ref in network["Subnets"]} <= private
    db_subnets = _one(template_json, "AWS::RDS::DBSubnetGroup")[1]["SubnetIds"]
    assert {ref["Ref"] for ref in db_subnets} <= private - {
        ref["Ref"] for ref in network["Subnets"]
    }
    for target in _resources(template_json, "AWS::EFS::MountTarget").values():
        assert target["Properties"]["SubnetId"]["Ref"] in private


def test_vpc_flow_logs_go_to_an_encrypted_group(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"LogDestinationType": "cloud-watch-logs", "TrafficType": "ALL"}
    )


# --- service ------------------------------------------------------------------------------


def test_service_runs_at_least_two_tasks_and_scales_on_cpu_and_requests(
    template: Template, template_json: dict[str, Any]
) -> None:
    service = _one(template_json, "AWS::ECS::Service")[1]
    assert service["DesiredCount"] >= 2
    assert service["LaunchType"] == "FARGATE"
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": DEFAULTS.min_tasks, "MaxCapacity": DEFAULTS.max_tasks},
    )
    metrics = sorted(
        policy["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for policy in _resources(
            template_json, "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).values()
    )
    assert metrics == ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]


def test_container_root_filesystem_is_read_only_and_unprivileged(
    template_json: dict[str, Any],
) -> None:
    # checkov has these two checks for Terraform only.
    container = _container(template_json)
    assert container["ReadonlyRootFilesystem"] is True
    assert container["Privileged"] is False
    user = container["User"]
    assert user.split(":")[0] not in ("", "0", "root")
    writable = {m["ContainerPath"] for m in container["MountPoints"] if not m["ReadOnly"]}
    assert writable == {"/var/lib/clinvault", "/tmp", "/mnt/shared"}


def test_database_password_is_injected_from_secrets_manager_never_the_environment(
    template_json: dict[str, Any],
) -> None:
    container = _container(template_json)
    attachment = _one(template_json, "AWS::SecretsManager::SecretTargetAttachment")[0]
    secrets = {item["Name"]: item["ValueFrom"] for item in container["Secrets"]}
    assert set(secrets) == {"DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_NAME"}
    for value_from in secrets.values():
        assert attachment in json.dumps(value_from)
    assert "password" not in json.dumps(container["Environment"]).lower()
    assert "CLINVAULT_DATABASE_URL" in " ".join(container["EntryPoint"])


def test_environment_uses_the_apps_settings_names_and_production_backends(
    template_json: dict[str, Any],
) -> None:
    from clinvault.config import Settings

    env = _environment(template_json)
    fields = set(Settings.model_fields)
    for name in env:
        if name.startswith("CLINVAULT_"):
            field = name.removeprefix("CLINVAULT_").lower().split("__")[0]
            assert field in fields, f"{name} is not a clinvault setting"
    documents = next(n for n in _resources(template_json, "AWS::S3::Bucket") if "Documents" in n)
    assert env["CLINVAULT_ENV"] == "production"
    assert env["CLINVAULT_STORAGE_URL"] == {
        "Fn::Join": ["", ["s3://", {"Ref": documents}, f"/{DEFAULTS.storage_prefix}"]]
    }
    assert env["CLINVAULT_KEYS_URL"] == {"Fn::GetAtt": [_key(template_json), "Arn"]}
    assert env["CLINVAULT_S3_SSE_KMS_KEY_ID"] == env["CLINVAULT_KEYS_URL"]
    assert env["CLINVAULT_MAIL_URL"] == f"ses://{DEFAULTS.region}"
    assert env["CLINVAULT_TRUSTED_PROXY_HOPS"] == "1"
    assert env["CLINVAULT_DEMO_ENABLED"] == "false"
    assert env["CLINVAULT_PUBLIC_URL"].startswith("https://")
    assert env["CLINVAULT_KMS_WRAPPED_KEYRING_PATH"].startswith("/mnt/shared/")
    assert env["CLINVAULT_AUDIT_SIGNING_KEY_PATH"].startswith("/mnt/shared/")


def test_production_environment_passes_the_apps_own_validation(
    template_json: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinvault.config import Settings

    for name, value in _environment(template_json).items():
        resolved = value if isinstance(value, str) else _placeholder(name)
        monkeypatch.setenv(name, resolved)
    monkeypatch.setenv(
        "CLINVAULT_DATABASE_URL", "postgresql+asyncpg://clinvault:pw@db:5432/clinvault"
    )
    settings = Settings()
    assert settings.env == "production"
    assert settings.storage_url.startswith("s3://")


def _placeholder(name: str) -> str:
    if name == "CLINVAULT_STORAGE_URL":
        return "s3://clinvault-documents/clinvault"
    return "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def test_load_balancer_listens_on_https_only_with_a_certificate(
    template: Template, template_json: dict[str, Any]
) -> None:
    listeners = _resources(template_json, "AWS::ElasticLoadBalancingV2::Listener")
    assert len(listeners) == 1
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": DEFAULTS.certificate_arn}],
            "SslPolicy": Match.string_like_regexp("TLS13"),
        },
    )
    balancer = _one(template_json, "AWS::ElasticLoadBalancingV2::LoadBalancer")[1]
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": DEFAULTS.health_check_path},
    )


# --- data ---------------------------------------------------------------------------------


def test_database_is_multi_az_encrypted_backed_up_and_protected(
    template_json: dict[str, Any],
) -> None:
    name, db = _one(template_json, "AWS::RDS::DBInstance")
    key = _key(template_json)
    assert db["Engine"] == "postgres"
    assert db["MultiAZ"] is True
    assert db["StorageEncrypted"] is True
    assert db["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert db["BackupRetentionPeriod"] == DEFAULTS.db_backup_days
    assert db["DeletionProtection"] is True
    assert db["PubliclyAccessible"] is False if "PubliclyAccessible" in db else True
    assert db["EnableIAMDatabaseAuthentication"] is True
    assert template_json["Resources"][name]["DeletionPolicy"] == "Snapshot"
    secret = _one(template_json, "AWS::SecretsManager::Secret")[1]
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    parameters = _one(template_json, "AWS::RDS::DBParameterGroup")[1]["Parameters"]
    assert parameters["rds.force_ssl"] == "1"


def test_database_and_shared_volume_are_in_a_daily_backup_plan(
    template_json: dict[str, Any],
) -> None:
    vault = _one(template_json, "AWS::Backup::BackupVault")[1]
    assert vault["EncryptionKeyArn"] == {"Fn::GetAtt": [_key(template_json), "Arn"]}
    rule = _one(template_json, "AWS::Backup::BackupPlan")[1]["BackupPlan"]["BackupPlanRule"][0]
    assert rule["Lifecycle"]["DeleteAfterDays"] == DEFAULTS.backup_retention_days
    selected = json.dumps(_one(template_json, "AWS::Backup::BackupSelection")[1])
    assert "rds" in selected
    assert "elasticfilesystem" in selected


def test_shared_volume_is_encrypted_and_mounted_over_tls_with_iam(
    template_json: dict[str, Any],
) -> None:
    volume = _one(template_json, "AWS::EFS::FileSystem")[1]
    assert volume["Encrypted"] is True
    assert volume["KmsKeyId"] == {"Fn::GetAtt": [_key(template_json), "Arn"]}
    task = _one(template_json, "AWS::ECS::TaskDefinition")[1]
    efs = next(v for v in task["Volumes"] if v["Name"] == "shared")["EFSVolumeConfiguration"]
    assert efs["TransitEncryption"] == "ENABLED"
    assert efs["AuthorizationConfig"]["IAM"] == "ENABLED"


def test_document_bucket_is_private_tls_only_versioned_kms_encrypted_and_logged(
    template_json: dict[str, Any],
) -> None:
    buckets = _resources(template_json, "AWS::S3::Bucket")
    documents_name = next(n for n in buckets if "Documents" in n)
    logs_name = next(n for n in buckets if "AccessLogs" in n)
    documents = buckets[documents_name]["Properties"]
    assert documents["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert documents["VersioningConfiguration"] == {"Status": "Enabled"}
    sse = documents["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [_key(template_json), "Arn"]},
    }
    assert documents["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_name}
    policies = _resources(template_json, "AWS::S3::BucketPolicy")
    for bucket_name in (documents_name, logs_name):
        policy = next(
            p["Properties"]["PolicyDocument"]
            for p in policies.values()
            if p["Properties"]["Bucket"] == {"Ref": bucket_name}
        )
        assert any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and statement["Action"] == "s3:*"
            for statement in policy["Statement"]
        ), f"{bucket_name} accepts plain HTTP"


def test_lifecycle_rules_cover_ingest_objects_and_retention_is_configurable(
    template_json: dict[str, Any],
    variant: tuple[dict[str, Any], dict[str, dict[str, Any]]],
) -> None:
    def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        bucket = next(
            r["Properties"]
            for n, r in _resources(template, "AWS::S3::Bucket").items()
            if "Documents" in n
        )
        return {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}

    default = rules(template_json)
    ingest = default["ingest-noncurrent"]
    assert ingest["TagFilters"] == [{"Key": "clinvault-area", "Value": "ingest"}]
    assert ingest["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert "ingest-expiry" not in default
    assert (
        default["retain-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        == DEFAULTS.noncurrent_version_days
    )
    assert default["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    assert variant[1]["ingest-expiry"]["ExpirationInDays"] == 90
    assert (
        variant[1]["retain-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        == 365
    )


def test_key_is_customer_managed_with_rotation(template: Template) -> None:
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_every_log_group_has_retention_and_the_app_key(template_json: dict[str, Any]) -> None:
    groups = _resources(template_json, "AWS::Logs::LogGroup")
    assert len(groups) >= 4  # app, flow logs, two database exports
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == DEFAULTS.log_retention_days, name
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [_key(template_json), "Arn"]}
    names = json.dumps([g["Properties"].get("LogGroupName") for g in groups.values()])
    assert "/aws/rds/instance/clinvault/postgresql" in names


def test_mail_identity_exists_and_cognito_is_off_by_default(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": DEFAULTS.mail_identity}
    )
    template.resource_count_is("AWS::Cognito::UserPool", 0)


# --- IAM ----------------------------------------------------------------------------------


def test_task_role_may_use_only_its_bucket_prefix_its_key_its_sender_and_volume(
    template_json: dict[str, Any],
) -> None:
    task = _one(template_json, "AWS::ECS::TaskDefinition")[1]
    role = task["TaskRoleArn"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(template_json, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert len(policies) == 1
    statements = {s["Sid"]: s for s in policies[0]}
    assert set(statements) == {
        "DocumentObjects",
        "DocumentListing",
        "EnvelopeKey",
        "SendMail",
        "CheckMailIdentity",
        "SharedVolume",
    }
    for statement in statements.values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all(not action.endswith("*") for action in actions), statement
        assert statement["Resource"] != "*", statement
    documents = next(n for n in _resources(template_json, "AWS::S3::Bucket") if "Documents" in n)
    assert statements["DocumentObjects"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [documents, "Arn"]}, f"/{DEFAULTS.storage_prefix}/*"]]
    }
    assert statements["DocumentListing"]["Condition"] == {
        "StringLike": {"s3:prefix": [DEFAULTS.storage_prefix, f"{DEFAULTS.storage_prefix}/*"]}
    }
    assert statements["EnvelopeKey"]["Resource"] == {"Fn::GetAtt": [_key(template_json), "Arn"]}
    assert statements["CheckMailIdentity"]["Resource"] == [
        f"arn:aws:ses:{DEFAULTS.region}:{DEFAULTS.account}:identity/example.org",
        f"arn:aws:ses:{DEFAULTS.region}:{DEFAULTS.account}:identity/no-reply@example.org",
    ]
    assert "kms:CreateGrant" not in json.dumps(statements)
    assert "s3:DeleteBucket" not in json.dumps(statements)


def test_no_policy_grants_wildcard_actions(template_json: dict[str, Any]) -> None:
    for name, policy in _resources(template_json, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in actions if isinstance(actions, list) else [actions]:
                assert action != "*", name
                assert not action.endswith(":*"), (name, action)


# --- tags ---------------------------------------------------------------------------------


def _tags_of(resource: dict[str, Any], tag_property: str) -> dict[str, str]:
    value = resource.get("Properties", {}).get(tag_property, [])
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {item["Key"]: item["Value"] for item in value}


def _untagged(template: dict[str, Any], required: dict[str, str]) -> list[str]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    missing = []
    for name, resource in template["Resources"].items():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(DEFAULTS.region, resource["Type"])
        tagging = schema.schema.get("tagging") or {}
        if not tagging.get("taggable") or "tagProperty" not in tagging:
            continue
        tags = _tags_of(resource, tagging["tagProperty"].split("/")[-1])
        if any(tags.get(key) != value for key, value in required.items()):
            missing.append(f"{name} ({resource['Type']})")
    return missing


def test_every_taggable_resource_carries_the_required_tags(
    template_json: dict[str, Any],
) -> None:
    assert _untagged(template_json, DEFAULT_TAGS) == []
    service = _one(template_json, "AWS::ECS::Service")[1]
    assert service["PropagateTags"] == "SERVICE"


# --- a second synthesis with other context ------------------------------------------------

VARIANT_TAGS = {"Team": "records", "Environment": "staging", "DataClassification": "phi"}


@pytest.fixture(scope="module")
def variant(
    tmp_path_factory: pytest.TempPathFactory,
    synth: Callable[[Path, dict[str, Any] | None], dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The app synthesized again with other context: Cognito on, other tags and retention."""
    template = synth(
        tmp_path_factory.mktemp("cdk.out.variant"),
        {
            "cognito": True,
            "tags": VARIANT_TAGS,
            "ingestExpiryDays": 90,
            "noncurrentVersionDays": 365,
            "minTasks": 3,
        },
    )
    bucket = next(
        r["Properties"]
        for n, r in _resources(template, "AWS::S3::Bucket").items()
        if "Documents" in n
    )
    return template, {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}


def test_context_switches_on_cognito_and_replaces_the_tags(
    variant: tuple[dict[str, Any], dict[str, dict[str, Any]]],
) -> None:
    template_json = variant[0]
    template = Template.from_json(template_json)
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"MfaConfiguration": "ON", "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}},
    )
    outputs = template_json["Outputs"]
    assert "cognito-idp" in json.dumps(outputs["OidcIssuer"])
    assert _untagged(template_json, VARIANT_TAGS) == []
    assert _one(template_json, "AWS::ECS::Service")[1]["DesiredCount"] == 3
