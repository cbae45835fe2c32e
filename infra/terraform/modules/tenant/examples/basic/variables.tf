variable "external_id" {
  description = "The ExternalId the central account's issuer is configured with (LAMBDA_SVID_EXTERNAL_ID)."
  type        = string
  sensitive   = true
}

variable "keywhiz_ca_pem" {
  description = "PEM roots of the Keywhiz server's certificate."
  type        = string
}
