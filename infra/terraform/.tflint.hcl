# tflint for the Terraform modules here. Only the Terraform language ruleset
# that ships inside tflint is used ("bundled": no plugin download), so the
# check runs offline; provider-specific rules (tflint-ruleset-aws) would need
# a download and are not part of it.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
