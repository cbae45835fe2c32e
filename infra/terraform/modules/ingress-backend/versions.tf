terraform {
  # startswith() in the input checks needs 1.5; the checks in this repository run Terraform 1.5.7.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
