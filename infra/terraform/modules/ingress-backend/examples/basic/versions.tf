terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

# Region and credentials come from the environment (AWS_REGION, AWS_PROFILE).
provider "aws" {}
