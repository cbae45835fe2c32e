output "account_id" {
  description = "This tenant account's id: the account to register in the issuer's registry."
  value       = local.account_id
}

output "writer_role_arn" {
  description = "ARN of the role the issuer assumes to write the SVID secret."
  value       = aws_iam_role.writer.arn
}

output "svid_secret_name" {
  description = "Name of the SVID secret the issuer writes and the layer reads."
  value       = var.svid_secret_name
}

output "svid_reader_policy_arn" {
  description = "ARN of the managed policy a function's role needs to read the SVID; attach it together with the layer."
  value       = aws_iam_policy.svid_reader.arn
}

output "layer_arn" {
  description = "Version ARN of the lambda-svid layer to add to functions in this account."
  value       = var.layer_arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key of the SVID secret (created here, or the one given)."
  value       = local.kms_key_arn
}

output "kms_key_alias" {
  description = "Alias of the created KMS key, or null when a key was given."
  value       = var.kms_key_arn == null ? aws_kms_alias.tenant[0].name : null
}

output "syncer_function_arn" {
  description = "ARN of the Keywhiz syncer function, or null without a syncer."
  value       = var.syncer == null ? null : aws_lambda_function.syncer[0].arn
}

output "syncer_role_arn" {
  description = "ARN of the syncer's execution role, or null without a syncer."
  value       = var.syncer == null ? null : aws_iam_role.syncer[0].arn
}

output "sync_prefix" {
  description = "Name prefix of the secrets the syncer mirrors, or null without a syncer."
  value       = var.syncer == null ? null : var.syncer.prefix
}

output "operator_role_arn" {
  description = "ARN of the operator role lambda-svid sync assumes (its name is LAMBDA_SVID_OPERATOR_ROLE), or null without one."
  value       = var.operator_role == null ? null : aws_iam_role.operator[0].arn
}
