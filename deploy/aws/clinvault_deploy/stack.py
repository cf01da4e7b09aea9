"""The clinvault production stack: N stateless replicas on PostgreSQL, S3 and KMS.

One customer-managed KMS key encrypts everything that holds data (database,
bucket, shared volume, secrets, logs) and is the app's envelope key
(CLINVAULT_KEYS_URL). The task role may use only its bucket prefix and that key.
"""

from __future__ import annotations

from aws_cdk import (
    CfnOutput,
    CfnResource,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Tags,
)
from aws_cdk import aws_backup as backup
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from constructs import Construct

from clinvault_deploy.settings import DeploySettings

HOME = "/var/lib/clinvault"
SHARED = "/mnt/shared"
DB_NAME = "clinvault"
DB_INSTANCE = "clinvault"
DB_ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_6
DB_LOG_EXPORTS = ("postgresql", "upgrade")
INGEST_TAG = ("clinvault-area", "ingest")
DB_USER = "clinvault"
# The database URL is put together inside the task from the secret's fields, which ECS
# injects at start; the password never appears in the task definition.
ENTRYPOINT_SCRIPT = (
    "export CLINVAULT_DATABASE_URL="
    '"postgresql+asyncpg://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/$DB_NAME"'
    ' && exec clinvault "$@"'
)


CFN_LINT_IGNORED = {
    # The zones are chosen in settings (availabilityZones): a Multi-AZ database and
    # subnets must stay in the zones they were created in, not follow Fn::GetAZs order.
    "W3010": "availability zones are a deployment setting",
    # CDK orders the service after the listener's target group on purpose (the target
    # group must be attached to a listener before the service registers in it).
    "W3005": "explicit DependsOn written by aws-ecs for the listener",
}


def _skip_checkov(construct: Construct, check: str, reason: str) -> None:
    """Record a checkov skip, with its reason, in the resource's template metadata."""
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource)
    resource.add_metadata("checkov", {"skip": [{"id": check, "comment": reason}]})


class ClinvaultStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        settings: DeploySettings,
        *,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env)
        self.settings = settings
        for name, value in settings.tags.items():
            Tags.of(self).add(name, value)

        self.key = kms.Key(
            self,
            "AppKey",
            alias="alias/clinvault",
            description="clinvault envelope, database, bucket, volume, secrets and logs key",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{settings.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:aws:logs:{settings.region}:{settings.account}:log-group:*"
                        )
                    }
                },
            )
        )

        self.vpc = self._network()
        self.access_logs = self._access_log_bucket()
        self.bucket = self._document_bucket()
        self.database = self._database()
        self.shared = self._shared_volume()
        self.mail_identity = ses.EmailIdentity(
            self, "MailIdentity", identity=_ses_identity(settings.mail_identity)
        )
        self.backup_plan = self._backups()
        self.user_pool = self._user_pool() if settings.cognito else None
        self.service, self.task = self._service()
        # cfn-lint findings that do not apply, each with its reason.
        self.template_options.metadata = {
            "cfn-lint": {
                "config": {
                    "ignore_checks": list(CFN_LINT_IGNORED),
                }
            }
        }

    def _network(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=list(self.settings.availability_zones),
            nat_gateways=len(self.settings.availability_zones),
            subnet_configuration=[
                # The load balancer and the NAT gateways only; nothing gets a public address.
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=_retention(self.settings.log_retention_days),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.flow_log_role = iam.Role(
            self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com")
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs, self.flow_log_role),
        )
        vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        return vpc

    def _access_log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            # Server access logs and load balancer logs can only be delivered to SSE-S3.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(self.settings.access_log_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        _skip_checkov(
            bucket,
            "CKV_AWS_18",
            "This is the access log bucket: logging it into itself would loop.",
        )
        return bucket

    def _document_bucket(self) -> s3.Bucket:
        s = self.settings
        return s3.Bucket(
            self,
            "Documents",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="retain-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(s.noncurrent_version_days),
                ),
                # CSV uploads move orgs/<org>/ingest/<stage>/ by copy and delete, leaving a
                # noncurrent version (PHI) behind at each stage. S3 filters by prefix and tag,
                # never by wildcard, so these rules match the tag the storage layer puts on
                # ingest objects (INGEST_TAG); current objects expire only when configured.
                s3.LifecycleRule(
                    id="ingest-noncurrent",
                    tag_filters={INGEST_TAG[0]: INGEST_TAG[1]},
                    noncurrent_version_expiration=Duration.days(s.ingest_noncurrent_days),
                ),
                *(
                    [
                        s3.LifecycleRule(
                            id="ingest-expiry",
                            tag_filters={INGEST_TAG[0]: INGEST_TAG[1]},
                            expiration=Duration.days(s.ingest_expiry_days),
                        )
                    ]
                    if s.ingest_expiry_days
                    else []
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _database(self) -> rds.DatabaseInstance:
        s = self.settings
        self.db_security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurity",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="PostgreSQL: reachable from the app tasks only",
        )
        for export in DB_LOG_EXPORTS:
            # Created here, encrypted and with retention, before RDS would create it bare.
            logs.LogGroup(
                self,
                f"DatabaseLogs{export.capitalize()}",
                log_group_name=f"/aws/rds/instance/{DB_INSTANCE}/{export}",
                retention=_retention(s.log_retention_days),
                encryption_key=self.key,
                removal_policy=RemovalPolicy.RETAIN,
            )
        return rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=DB_INSTANCE,
            engine=rds.DatabaseInstanceEngine.postgres(version=DB_ENGINE_VERSION),
            instance_type=ec2.InstanceType(s.db_instance_class),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.db_security_group],
            multi_az=True,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            allocated_storage=s.db_allocated_gib,
            max_allocated_storage=s.db_max_allocated_gib,
            storage_type=rds.StorageType.GP3,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(
                DB_USER,
                encryption_key=self.key,
                # The password goes into a URL: letters and digits only.
                exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\,=^.-_",
            ),
            iam_authentication=True,
            backup_retention=Duration.days(s.db_backup_days),
            delete_automated_backups=False,
            deletion_protection=True,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            enable_performance_insights=True,
            performance_insight_encryption_key=self.key,
            monitoring_interval=Duration.seconds(60),
            cloudwatch_logs_exports=list(DB_LOG_EXPORTS),
            parameter_group=rds.ParameterGroup(
                self,
                "DatabaseParameters",
                engine=rds.DatabaseInstanceEngine.postgres(version=DB_ENGINE_VERSION),
                parameters={
                    "rds.force_ssl": "1",
                    "log_connections": "1",
                    "log_disconnections": "1",
                },
            ),
            removal_policy=RemovalPolicy.SNAPSHOT,
        )

    def _shared_volume(self) -> efs.FileSystem:
        """Files every replica reads: the KMS-wrapped keyring, the audit signing key and
        checkpoints. Encrypted with the app key, in transit too, IAM-authorized."""
        self.efs_security_group = ec2.SecurityGroup(
            self,
            "SharedVolumeSecurity",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Shared volume: reachable from the app tasks only",
        )
        volume = efs.FileSystem(
            self,
            "SharedVolume",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_group=self.efs_security_group,
            encrypted=True,
            kms_key=self.key,
            # Backed up by the stack's backup plan rather than the default one.
            enable_automatic_backups=False,
            removal_policy=RemovalPolicy.RETAIN,
        )
        uid = str(self.settings.container_uid)
        self.access_point = volume.add_access_point(
            "AppAccessPoint",
            path="/clinvault",
            posix_user=efs.PosixUser(uid=uid, gid=uid),
            create_acl=efs.Acl(owner_uid=uid, owner_gid=uid, permissions="0700"),
        )
        return volume

    def _backups(self) -> backup.BackupPlan:
        """Daily AWS Backup of the database and the shared volume, in a vault under the
        app key; RDS point-in-time recovery runs beside it (db_backup_days)."""
        s = self.settings
        vault = backup.BackupVault(
            self, "BackupVault", encryption_key=self.key, removal_policy=RemovalPolicy.RETAIN
        )
        plan = backup.BackupPlan(self, "BackupPlan", backup_vault=vault)
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(minute="0", hour="3"),
                delete_after=Duration.days(s.backup_retention_days),
                enable_continuous_backup=False,
            )
        )
        plan.add_selection(
            "Data",
            resources=[
                backup.BackupResource.from_rds_database_instance(self.database),
                backup.BackupResource.from_efs_file_system(self.shared),
            ],
        )
        return plan

    def _user_pool(self) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        client = pool.add_client(
            "AppClient", generate_secret=False, auth_flows=cognito.AuthFlow(user_srp=True)
        )
        CfnOutput(
            self,
            "OidcIssuer",
            value=f"https://cognito-idp.{self.settings.region}.amazonaws.com/{pool.user_pool_id}",
        )
        CfnOutput(self, "OidcAudience", value=client.user_pool_client_id)
        return pool

    def _service(self) -> tuple[ecs.FargateService, ecs.FargateTaskDefinition]:
        s = self.settings
        cluster = ecs.Cluster(
            self, "Cluster", vpc=self.vpc, container_insights_v2=(ecs.ContainerInsights.ENABLED)
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=s.cpu,
            memory_limit_mib=s.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_volume(name="home")
        task.add_volume(name="tmp")
        task.add_volume(
            name="shared",
            efs_volume_configuration=ecs.EfsVolumeConfiguration(
                file_system_id=self.shared.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=ecs.AuthorizationConfig(
                    access_point_id=self.access_point.access_point_id, iam="ENABLED"
                ),
            ),
        )
        app_logs = logs.LogGroup(
            self,
            "AppLogs",
            retention=_retention(s.log_retention_days),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        secret = self.database.secret
        assert secret is not None
        container = task.add_container(
            "app",
            image=ecs.ContainerImage.from_registry(s.image_uri),
            entry_point=["/bin/sh", "-c", ENTRYPOINT_SCRIPT, "clinvault"],
            # All interfaces of the task's own network namespace: the load balancer reaches
            # it through the service security group only.
            command=["serve", "--host", "0.0.0.0", "--port", str(s.container_port), "--no-migrate"],  # noqa: S104
            user=f"{s.container_uid}:{s.container_uid}",
            readonly_root_filesystem=True,
            privileged=False,
            essential=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="app", log_group=app_logs),
            port_mappings=[ecs.PortMapping(container_port=s.container_port)],
            environment=self._environment(),
            secrets={
                "DB_USER": ecs.Secret.from_secrets_manager(secret, "username"),
                "DB_PASSWORD": ecs.Secret.from_secrets_manager(secret, "password"),
                "DB_HOST": ecs.Secret.from_secrets_manager(secret, "host"),
                "DB_PORT": ecs.Secret.from_secrets_manager(secret, "port"),
                "DB_NAME": ecs.Secret.from_secrets_manager(secret, "dbname"),
            },
            health_check=ecs.HealthCheck(
                command=[
                    "CMD-SHELL",
                    'python -c "import urllib.request,sys;'
                    f"urllib.request.urlopen('http://127.0.0.1:{s.container_port}/healthz')\"",
                ],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),
            ),
            stop_timeout=Duration.seconds(120),
        )
        container.add_mount_points(
            ecs.MountPoint(container_path=HOME, source_volume="home", read_only=False),
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False),  # noqa: S108
            ecs.MountPoint(container_path=SHARED, source_volume="shared", read_only=False),
        )
        self._grant_task(task)

        self.load_balancer_security = alb_security = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurity",
            vpc=self.vpc,
            allow_all_outbound=False,
            # HTTPS only: no plaintext listener, not even one that redirects.
            description="HTTPS from the internet to the load balancer",
        )
        alb_security.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
        service_security = ec2.SecurityGroup(
            self,
            "ServiceSecurity",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="App tasks: from the load balancer only",
        )
        service_security.add_ingress_rule(alb_security, ec2.Port.tcp(s.container_port), "ALB")
        alb_security.add_egress_rule(service_security, ec2.Port.tcp(s.container_port), "tasks")
        self.db_security_group.add_ingress_rule(service_security, ec2.Port.tcp(5432), "tasks")
        self.efs_security_group.add_ingress_rule(service_security, ec2.Port.tcp(2049), "tasks")

        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=s.min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            security_groups=[service_security],
            assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=Duration.seconds(120),
            platform_version=ecs.FargatePlatformVersion.LATEST,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            security_group=alb_security,
            drop_invalid_header_fields=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            deletion_protection=True,
        )
        self.load_balancer.log_access_logs(self.access_logs, prefix="alb")
        listener = self.load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[
                acm.Certificate.from_certificate_arn(self, "Certificate", s.certificate_arn)
            ],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
        )
        target_group = listener.add_targets(
            "App",
            port=s.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service],
            health_check=elbv2.HealthCheck(
                path=s.health_check_path, healthy_http_codes="200", interval=Duration.seconds(15)
            ),
            deregistration_delay=Duration.seconds(60),
        )
        scaling = service.auto_scale_task_count(min_capacity=s.min_tasks, max_capacity=s.max_tasks)
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=s.cpu_target_percent)
        scaling.scale_on_request_count(
            "Requests", requests_per_target=s.requests_per_target, target_group=target_group
        )
        CfnOutput(self, "LoadBalancerDns", value=self.load_balancer.load_balancer_dns_name)
        CfnOutput(self, "ClusterName", value=cluster.cluster_name)
        CfnOutput(self, "ServiceName", value=service.service_name)
        CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "KeyArn", value=self.key.key_arn)
        return service, task

    def _environment(self) -> dict[str, str]:
        s = self.settings
        return {
            "CLINVAULT_ENV": "production",
            "CLINVAULT_HOME": HOME,
            "CLINVAULT_STORAGE_URL": f"s3://{self.bucket.bucket_name}/{s.storage_prefix}",
            "CLINVAULT_S3_SERVER_SIDE_ENCRYPTION": "aws:kms",
            "CLINVAULT_S3_SSE_KMS_KEY_ID": self.key.key_arn,
            "CLINVAULT_KEYS_URL": self.key.key_arn,
            "CLINVAULT_KMS_WRAPPED_KEYRING_PATH": f"{SHARED}/keys/kms-keyring.json",
            "CLINVAULT_AUDIT_SIGNING_KEY_PATH": f"{SHARED}/keys/audit-signing-key.pem",
            "CLINVAULT_AUDIT_VERIFY_KEY_PATH": f"{SHARED}/keys/audit-signing-key.pub",
            "CLINVAULT_AUDIT_CHECKPOINT_PATH": f"{SHARED}/audit/checkpoints.ndjson",
            "CLINVAULT_MAIL_URL": f"ses://{s.region}",
            "CLINVAULT_MAIL_FROM": s.mail_from,
            "CLINVAULT_PUBLIC_URL": s.public_url,
            "CLINVAULT_TRUSTED_PROXY_HOPS": "1",
            "CLINVAULT_DEMO_ENABLED": "false",
            "CLINVAULT_SECURITY__COOKIE_SECURE": "true",
            "CLINVAULT_LOG_JSON": "true",
            "AWS_REGION": s.region,
        }

    def _grant_task(self, task: ecs.FargateTaskDefinition) -> None:
        s = self.settings
        role = task.task_role
        prefix = f"{s.storage_prefix}/*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DocumentObjects",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:PutObjectTagging",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[self.bucket.arn_for_objects(prefix)],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DocumentListing",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [s.storage_prefix, prefix]}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EnvelopeKey",
                actions=["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"],
                resources=[self.key.key_arn],
            )
        )
        # The sender's own identity and its domain's: the app checks the address first, then
        # the domain, and SES authorizes a send against whichever is verified.
        identities = [
            f"arn:aws:ses:{s.region}:{s.account}:identity/{name}"
            for name in dict.fromkeys((s.mail_identity, s.sender_address))
        ]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SendMail",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=identities,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CheckMailIdentity",
                actions=["ses:GetEmailIdentity"],
                resources=identities,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SharedVolume",
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                resources=[self.shared.file_system_arn],
                conditions={
                    "StringEquals": {
                        "elasticfilesystem:AccessPointArn": self.access_point.access_point_arn
                    }
                },
            )
        )


def _ses_identity(value: str) -> ses.Identity:
    return ses.Identity.email(value) if "@" in value else ses.Identity.domain(value)


_RETENTIONS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTIONS:
        raise ValueError(
            f"logRetentionDays={days} is not a CloudWatch retention: use one of "
            f"{sorted(_RETENTIONS)}"
        )
    return _RETENTIONS[days]
