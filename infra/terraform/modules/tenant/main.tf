# Every policy document comes from infra/policies, the one copy that
# serverless.yml and the tests also read; nothing here restates a policy in HCL.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# The caller's ARN is an STS session when Terraform runs under an assumed role;
# a key policy needs the role itself.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  policies   = "${path.module}/../../../policies"
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  kms_key_arn           = var.kms_key_arn == null ? aws_kms_key.tenant[0].arn : var.kms_key_arn
  key_administrator_arn = coalesce(var.kms_key_administrator_arn, data.aws_iam_session_context.current.issuer_arn)

  # The key policy and the SCPs name the syncer's role and prefix even when
  # this account runs no syncer, so these fall back to the syncer's defaults.
  syncer_name      = var.syncer == null ? "lambda-svid-syncer" : var.syncer.function_name
  sync_prefix      = var.syncer == null ? "keywhiz/" : var.syncer.prefix
  sync_kms_key_arn = var.syncer == null ? local.kms_key_arn : coalesce(var.syncer.kms_key_arn, local.kms_key_arn)
}

resource "aws_kms_key" "tenant" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "lambda-svid: this account's SVID secret and mirrored Keywhiz secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = templatefile("${local.policies}/tenant-key.json", {
    partition         = local.partition
    region            = local.region
    account_id        = local.account_id
    administrator_arn = local.key_administrator_arn
    writer_role_name  = var.writer_role_name
    syncer_role_name  = local.syncer_name
    secret_name       = var.svid_secret_name
    sync_prefix       = local.sync_prefix
  })
  tags = var.tags
}

# The issuer names the key by this alias (LAMBDA_SVID_KMS_KEY_ID), which
# Secrets Manager resolves in the tenant account, so one central setting
# reaches every tenant's own key.
resource "aws_kms_alias" "tenant" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = var.kms_key_alias
  target_key_id = aws_kms_key.tenant[0].key_id
}

resource "aws_iam_role" "writer" {
  name                 = var.writer_role_name
  description          = "Assumed by the lambda-svid issuer to write this account's SVID secret"
  max_session_duration = 3600
  assume_role_policy = templatefile("${local.policies}/writer-trust.json", {
    issuer_role_arn = var.issuer_role_arn
    external_id     = var.external_id
  })
  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.external_id) >= 2 && length(var.external_id) <= 1224 && can(regex("^[\\w+=,.@:/-]+$", var.external_id))
      error_message = "external_id is invalid (its value is not shown); expected 2 to 1224 characters of A-Z a-z 0-9 _ + = , . @ : / -."
    }
  }
}

# Inline rather than managed, so the writer-role SCP (PutRolePolicy,
# AttachRolePolicy) covers every way its permissions could change.
resource "aws_iam_role_policy" "writer" {
  name = "lambda-svid-writer"
  role = aws_iam_role.writer.id
  policy = templatefile("${local.policies}/writer.json", {
    partition   = local.partition
    region      = local.region
    account_id  = local.account_id
    secret_name = var.svid_secret_name
    kms_key_arn = local.kms_key_arn
  })
}

resource "aws_iam_policy" "svid_reader" {
  name        = var.svid_reader_policy_name
  description = "Read this account's lambda-svid SVID secret; attach to the roles of functions that use the lambda-svid layer"
  policy = templatefile("${local.policies}/svid-reader.json", {
    partition   = local.partition
    region      = local.region
    account_id  = local.account_id
    secret_name = var.svid_secret_name
    kms_key_arn = local.kms_key_arn
  })
  tags = var.tags
}

resource "aws_iam_role" "syncer" {
  count = var.syncer == null ? 0 : 1

  name               = var.syncer.function_name
  description        = "Execution role of the lambda-svid Keywhiz syncer"
  assume_role_policy = templatefile("${local.policies}/lambda-trust.json", {})
  tags               = var.tags
}

resource "aws_iam_role_policy" "syncer" {
  count = var.syncer == null ? 0 : 1

  name = "lambda-svid-syncer"
  role = aws_iam_role.syncer[0].id
  policy = templatefile("${local.policies}/syncer.json", {
    partition        = local.partition
    region           = local.region
    account_id       = local.account_id
    secret_name      = var.svid_secret_name
    kms_key_arn      = local.kms_key_arn
    sync_prefix      = var.syncer.prefix
    sync_kms_key_arn = local.sync_kms_key_arn
    function_name    = var.syncer.function_name
  })
}

resource "aws_cloudwatch_log_group" "syncer" {
  count = var.syncer == null ? 0 : 1

  # checkov:skip=CKV_AWS_158:The syncer never logs secret content, only names, counts and reasons.
  # checkov:skip=CKV_AWS_338:Retention is the log_retention_days input; the platform team sets its own floor.
  name              = "/aws/lambda/${var.syncer.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "syncer" {
  count = var.syncer == null ? 0 : 1

  # checkov:skip=CKV_AWS_116:Scheduled runs are retried by the next schedule; failures show as the SyncRunFailed metric.
  # checkov:skip=CKV_AWS_117:Whether Keywhiz needs a VPC attachment depends on the network; v1 runs outside a VPC.
  # checkov:skip=CKV_AWS_173:The environment holds the Keywhiz URL, its CA certificates and opt-in names, nothing secret.
  # checkov:skip=CKV_AWS_272:The code is pinned by S3 object version in the central account's bucket, which only that account writes.
  function_name     = var.syncer.function_name
  description       = "lambda-svid: mirrors opted-in Keywhiz secrets into Secrets Manager"
  role              = aws_iam_role.syncer[0].arn
  s3_bucket         = var.syncer.artifact.bucket
  s3_key            = var.syncer.artifact.key
  s3_object_version = var.syncer.artifact.version
  handler           = "index.handler"
  runtime           = "nodejs22.x"
  architectures     = ["arm64"]
  memory_size       = var.syncer.memory_size
  timeout           = var.syncer.timeout
  # Two runs at once would race on the same secrets.
  reserved_concurrent_executions = 1

  environment {
    # Exactly the variables functions/syncer/config.ts reads.
    variables = {
      LAMBDA_SVID_SECRET_NAME        = var.svid_secret_name
      LAMBDA_SVID_KEYWHIZ_URL        = var.syncer.keywhiz_url
      LAMBDA_SVID_KEYWHIZ_CA         = var.syncer.keywhiz_ca_pem
      LAMBDA_SVID_SYNC_OPT_IN        = join(",", var.syncer.opt_in)
      LAMBDA_SVID_SYNC_PREFIX        = var.syncer.prefix
      LAMBDA_SVID_SYNC_KMS_KEY_ID    = local.sync_kms_key_arn
      LAMBDA_SVID_SYNC_RECOVERY_DAYS = tostring(var.syncer.recovery_window_days)
      # Deletion guard: a run that would delete more than this share is refused.
      LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT = tostring(var.syncer.max_delete_percent)
    }
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  # The log group must exist first, or Lambda creates one without retention.
  depends_on = [aws_cloudwatch_log_group.syncer, aws_iam_role_policy.syncer]

  lifecycle {
    precondition {
      condition     = !startswith(var.svid_secret_name, var.syncer.prefix)
      error_message = "syncer.prefix is \"${var.syncer.prefix}\"; expected a prefix that does not cover the SVID secret \"${var.svid_secret_name}\"."
    }
  }
}

resource "aws_cloudwatch_event_rule" "syncer" {
  count = var.syncer == null ? 0 : 1

  name                = var.syncer.function_name
  description         = "Runs the lambda-svid Keywhiz syncer"
  schedule_expression = var.syncer.schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "syncer" {
  count = var.syncer == null ? 0 : 1

  rule = aws_cloudwatch_event_rule.syncer[0].name
  arn  = aws_lambda_function.syncer[0].arn
}

resource "aws_lambda_permission" "syncer_schedule" {
  count = var.syncer == null ? 0 : 1

  statement_id  = "lambda-svid-syncer-schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.syncer[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.syncer[0].arn
}

# Optional: what `lambda-svid sync` assumes to run this account's syncer now.
# Inline rather than managed, as the writer's, so its one permission is all it
# can ever have without a change to this module.
resource "aws_iam_role" "operator" {
  count = var.operator_role == null ? 0 : 1

  name                 = var.operator_role.name
  description          = "Assumed by lambda-svid operators (lambda-svid sync) to invoke this account's Keywhiz syncer"
  max_session_duration = 3600
  assume_role_policy = templatefile("${local.policies}/operator-trust.json", {
    operator_principal_arn = var.operator_role.trusted_principal_arn
  })
  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.syncer != null
      error_message = "operator_role is set but syncer is null; expected a syncer for the operator role to invoke."
    }
  }
}

resource "aws_iam_role_policy" "operator" {
  count = var.operator_role == null ? 0 : 1

  name = "lambda-svid-operator"
  role = aws_iam_role.operator[0].id
  policy = templatefile("${local.policies}/operator.json", {
    partition     = local.partition
    region        = local.region
    account_id    = local.account_id
    function_name = local.syncer_name
  })
}
