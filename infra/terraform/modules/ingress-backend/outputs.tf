output "role_arn" {
  description = "ARN of the role; the route's roleArn in the ingress's route file."
  value       = aws_iam_role.backend.arn
}

output "role_name" {
  description = "Name of the role."
  value       = aws_iam_role.backend.name
}

output "kind" {
  description = "The route file's kind for this backend: execute-api, lambda or s3."
  value       = local.kind
}
