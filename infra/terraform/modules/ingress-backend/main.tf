# The role one ingress route assumes: it trusts the ingress's role alone and
# may call exactly one backend. Every policy document comes from
# infra/policies, the one copy the tests also read; none is restated in HCL.

data "aws_partition" "current" {}

locals {
  policies = "${path.module}/../../../policies"
  # The route file's `kind` for this backend.
  kind = var.backend.execute_api != null ? "execute-api" : var.backend.lambda_function_url != null ? "lambda" : "s3"
}

resource "aws_iam_role" "backend" {
  name                 = var.role_name
  description          = "Assumed by the lambda-svid ingress to reach one ${local.kind} backend"
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = templatefile("${local.policies}/ingress-backend-trust.json", {
    ingress_role_arn = var.ingress_role_arn
  })
  tags = var.tags
}

# Inline rather than managed, so that nothing else can be attached the same
# grant and the role's permissions are read in one place. One policy per
# method: a policy value cannot carry a list, and IAM has no method condition.
resource "aws_iam_role_policy" "execute_api" {
  for_each = var.backend.execute_api == null ? toset([]) : toset(var.backend.execute_api.methods)

  name = "lambda-svid-ingress-invoke-${each.value}"
  role = aws_iam_role.backend.id
  policy = templatefile("${local.policies}/ingress-backend-execute-api.json", {
    execution_arn = var.backend.execute_api.execution_arn
    stage         = var.backend.execute_api.stage
    method        = each.value
    resource_path = var.backend.execute_api.resource_path
  })
}

resource "aws_iam_role_policy" "lambda_function_url" {
  count = var.backend.lambda_function_url == null ? 0 : 1

  name = "lambda-svid-ingress-invoke-url"
  role = aws_iam_role.backend.id
  policy = templatefile("${local.policies}/ingress-backend-lambda-url.json", {
    function_arn = var.backend.lambda_function_url.function_arn
  })
}

resource "aws_iam_role_policy" "s3" {
  count = var.backend.s3 == null ? 0 : 1

  name = "lambda-svid-ingress-read"
  role = aws_iam_role.backend.id
  policy = templatefile("${local.policies}/ingress-backend-s3.json", {
    partition = data.aws_partition.current.partition
    # Joined here because the prefix may be empty (the whole bucket), and a
    # template value may not be.
    object_prefix = "${var.backend.s3.bucket}/${var.backend.s3.prefix}"
  })
}

# Without ListBucket S3 answers 403 for a missing key, with it 404.
resource "aws_iam_role_policy" "s3_list" {
  count = var.backend.s3 == null ? 0 : var.backend.s3.list ? 1 : 0

  name = "lambda-svid-ingress-list"
  role = aws_iam_role.backend.id
  policy = templatefile("${local.policies}/ingress-backend-s3-list.json", {
    partition  = data.aws_partition.current.partition
    bucket     = var.backend.s3.bucket
    key_prefix = var.backend.s3.prefix
  })
}
