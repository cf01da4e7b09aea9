"""cdk-nag acknowledgments, each with the reason the finding does not apply or is accepted.

Acknowledged on the one construct concerned (never the whole stack), so a new
resource with the same finding still fails synthesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnElement, Validations
from constructs import IConstruct

if TYPE_CHECKING:
    from clinvault_deploy.stack import ClinvaultStack

AWS = "AwsSolutions::AwsSolutions-"
HIPAA = "HIPAA.Security::HIPAA.Security-"


def _ack(construct: IConstruct, *pairs: tuple[str, str]) -> None:
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=rule, reason=reason) for rule, reason in pairs)
    )


def suppress(stack: ClinvaultStack) -> None:
    s = stack.settings
    _ack(
        stack.vpc,
        (
            f"{HIPAA}VPCDefaultSecurityGroupClosed",
            "Nothing is attached to the default security group: every resource has its own "
            "group. Closing it needs a Lambda custom resource, more attack surface than it "
            "removes.",
        ),
    )
    for subnet in stack.vpc.public_subnets:
        _ack(
            subnet,
            (
                f"{HIPAA}VPCNoUnrestrictedRouteToIGW",
                "Public subnets hold only the internet-facing load balancer and the NAT "
                "gateways; tasks, database and volume live in private subnets.",
            ),
        )
    _ack(
        stack.load_balancer_security,
        (
            f"{AWS}EC23",
            "The internet-facing load balancer accepts HTTPS from anyone: it is the public "
            "entry point; the tasks behind it admit the load balancer only.",
        ),
    )
    _ack(
        stack.task,
        (
            f"{AWS}ECS2",
            "The environment holds settings only (bucket, key ARN, URLs); the database "
            "credentials come from Secrets Manager through the task's secrets.",
        ),
    )
    _ack(
        stack.task.task_role,
        (
            f"{AWS}IAM5[Resource::<{stack.get_logical_id(_cfn(stack.bucket))}.Arn>/"
            f"{s.storage_prefix}/*]",
            "Objects are per organization under the app's prefix (orgs/<id>/...), created at "
            "run time: the wildcard is limited to the bucket and its prefix.",
        ),
    )
    for role in (stack.task.task_role, stack.task.obtain_execution_role(), stack.flow_log_role):
        _ack(
            role,
            (
                f"{HIPAA}IAMNoInlinePolicy",
                "Each inline policy belongs to exactly one role and grants only that role's "
                "resources; a managed policy would be attachable elsewhere.",
            ),
        )
    _ack(
        stack.database,
        (
            f"{AWS}RDS11",
            "The default port is kept: the database is in isolated subnets and its security "
            "group admits the app tasks only; a different port adds no protection.",
        ),
    )
    _ack(
        stack.database.node.find_child("MonitoringRole"),
        (
            f"{AWS}IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole]",
            "The AWS managed policy is the one RDS enhanced monitoring documents; it grants "
            "writing to the RDSOSMetrics log group only.",
        ),
    )
    _ack(
        stack.database.node.find_child("Secret"),
        (
            f"{AWS}SMG4",
            "Tasks read the credentials at start-up; rotation is an operator step followed "
            "by a new deployment (deploy/aws/README.md, Rotate), so no task is left with a "
            "stale password.",
        ),
        (
            f"{HIPAA}SecretsManagerRotationEnabled",
            "Rotated by the operator with a new deployment (deploy/aws/README.md, Rotate).",
        ),
    )
    _ack(
        stack.backup_plan.node.find_child("Data").node.find_child("Role"),
        (
            f"{AWS}IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "The AWS managed policy AWS Backup documents for its service role, assumable by "
            "backup.amazonaws.com only; AWS maintains it as services gain backup support.",
        ),
    )
    for bucket in (stack.bucket, stack.access_logs):
        _ack(
            bucket,
            (
                f"{HIPAA}S3BucketReplicationEnabled",
                "Cross-region replication moves PHI to another jurisdiction: a GDPR/data "
                "residency decision for the operator; versioning and AWS Backup cover "
                "recovery within the region.",
            ),
        )
    _ack(
        stack.access_logs,
        (
            f"{HIPAA}S3DefaultEncryptionKMS",
            "S3 server access logs and load balancer logs can be delivered only to a bucket "
            "encrypted with SSE-S3; it holds no document content.",
        ),
        (
            f"{AWS}S1",
            "This is the access log bucket; logging it into itself would loop.",
        ),
        (
            f"{HIPAA}S3BucketLoggingEnabled",
            "This is the access log bucket; logging it into itself would loop.",
        ),
    )


def _cfn(construct: IConstruct) -> CfnElement:
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return child
