# Onboards one tenant account; apply with that account's deployment role.
module "lambda_svid_tenant" {
  source = "../.."

  issuer_role_arn = "arn:aws:iam::111111111111:role/lambda-svid-issuer-worker-prod"
  external_id     = var.external_id
  layer_arn       = "arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid:3"
  operator_role   = { trusted_principal_arn = "arn:aws:iam::111111111111:role/lambda-svid-operator" }

  syncer = {
    artifact       = { bucket = "lambda-svid-artifacts", key = "syncer/lambda-svid-syncer-0.1.0-3f2a9c1d.zip", version = "Fh8aAbN3kqtJlcpX" }
    keywhiz_url    = "https://keywhiz.example.org:4444"
    keywhiz_ca_pem = var.keywhiz_ca_pem
    opt_in         = ["orders-db-*", "orders-api-key"]
  }
}

output "svid_reader_policy_arn" {
  value = module.lambda_svid_tenant.svid_reader_policy_arn
}

output "layer_arn" {
  value = module.lambda_svid_tenant.layer_arn
}
