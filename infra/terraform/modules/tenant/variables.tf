variable "issuer_role_arn" {
  description = "ARN of the issuer worker's role in the central account (stack output IssuerWorkerRoleArn); the only principal the writer role trusts."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", var.issuer_role_arn))
    error_message = "issuer_role_arn is \"${var.issuer_role_arn}\"; expected an IAM role ARN such as arn:aws:iam::111111111111:role/lambda-svid-issuer-worker-prod."
  }
}

variable "external_id" {
  description = "ExternalId the issuer presents when it assumes the writer role (the issuer's LAMBDA_SVID_EXTERNAL_ID)."
  type        = string
  sensitive   = true
  # Checked by a precondition on the writer role instead of a validation
  # block: Terraform 1.5 prints a failing variable's value beside its
  # validation message even when it is sensitive.
}

variable "writer_role_name" {
  description = "Name of the role the issuer assumes; the issuer's LAMBDA_SVID_WRITER_ROLE."
  type        = string
  default     = "lambda-svid-writer"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.writer_role_name))
    error_message = "writer_role_name is \"${var.writer_role_name}\"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -."
  }
}

variable "svid_secret_name" {
  description = "Name of the SVID secret the issuer writes; the issuer's and the layer's LAMBDA_SVID_SECRET_NAME."
  type        = string
  default     = "lambda-svid/svid"

  validation {
    condition     = can(regex("^[\\w/+=.@-]{1,512}$", var.svid_secret_name))
    error_message = "svid_secret_name is \"${var.svid_secret_name}\"; expected a Secrets Manager name, 1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for the SVID secret (and, unless syncer.kms_key_arn is set, the mirrored secrets). Null: the module creates a customer managed key for this tenant whose key policy names the writer and syncer roles. A given key's policy must allow the same, and the issuer's LAMBDA_SVID_KMS_KEY_ID alias must point to it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$", var.kms_key_arn))
    error_message = "kms_key_arn is \"${coalesce(var.kms_key_arn, "null")}\"; expected null or a KMS key ARN such as arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "kms_key_alias" {
  description = "Alias of the created KMS key. The issuer's LAMBDA_SVID_KMS_KEY_ID names this alias, which Secrets Manager resolves in each tenant account."
  type        = string
  default     = "alias/lambda-svid"

  validation {
    condition     = can(regex("^alias/[\\w/-]{1,250}$", var.kms_key_alias)) && !startswith(var.kms_key_alias, "alias/aws/")
    error_message = "kms_key_alias is \"${var.kms_key_alias}\"; expected alias/ followed by 1 to 250 characters of A-Z a-z 0-9 / _ -, not under alias/aws/."
  }
}

variable "kms_key_administrator_arn" {
  description = "IAM role or user that administers the created KMS key (it cannot use it). Null: the role that applies this module."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_administrator_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\\w+=,.@/-]{1,512}$", var.kms_key_administrator_arn))
    error_message = "kms_key_administrator_arn is \"${coalesce(var.kms_key_administrator_arn, "null")}\"; expected null or an IAM role or user ARN."
  }
}

variable "svid_reader_policy_name" {
  description = "Name of the managed policy that function owners attach to read the SVID."
  type        = string
  default     = "lambda-svid-svid-reader"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,128}$", var.svid_reader_policy_name))
    error_message = "svid_reader_policy_name is \"${var.svid_reader_policy_name}\"; expected an IAM policy name, 1 to 128 characters of A-Z a-z 0-9 _ + = , . @ -."
  }
}

variable "layer_arn" {
  description = "Version ARN of the lambda-svid layer published by the central account; passed through to the layer_arn output for function owners."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[\\w-]{1,140}:[0-9]+$", var.layer_arn))
    error_message = "layer_arn is \"${var.layer_arn}\"; expected a layer version ARN such as arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid:3."
  }
}

variable "syncer" {
  description = <<-EOT
    The Keywhiz syncer for this account, or null for none. artifact is the
    versioned syncer zip the central account publishes (S3 bucket, key and
    object version). keywhiz_url is the https:// URL of Keywhiz; keywhiz_ca_pem
    the PEM roots of its server certificate; opt_in the Keywhiz secret names and
    globs (*, ?) to mirror; prefix the name prefix of mirrored secrets;
    schedule an EventBridge schedule expression; recovery_window_days the
    recovery window of deletions (7 to 30); max_delete_percent the largest share
    of the mirrored secrets one run may delete without a forced re-sync;
    kms_key_arn a KMS key for mirrored secrets (null: the tenant key).
  EOT
  type = object({
    artifact = object({
      bucket  = string
      key     = string
      version = string
    })
    keywhiz_url          = string
    keywhiz_ca_pem       = string
    opt_in               = list(string)
    prefix               = optional(string, "keywhiz/")
    schedule             = optional(string, "rate(15 minutes)")
    recovery_window_days = optional(number, 7)
    max_delete_percent   = optional(number, 50)
    kms_key_arn          = optional(string)
    function_name        = optional(string, "lambda-svid-syncer")
    memory_size          = optional(number, 256)
    timeout              = optional(number, 120)
  })
  default = null

  validation {
    condition     = var.syncer == null ? true : can(regex("^https://[^\\s/?#@]+(/[^\\s?#]*)?$", var.syncer.keywhiz_url))
    error_message = "syncer.keywhiz_url is \"${try(var.syncer.keywhiz_url, "")}\"; expected an https:// URL, optionally with a path, without user, query or fragment."
  }

  validation {
    condition     = var.syncer == null ? true : strcontains(var.syncer.keywhiz_ca_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "syncer.keywhiz_ca_pem holds no \"-----BEGIN CERTIFICATE-----\"; expected the PEM roots of the Keywhiz server's certificate."
  }

  validation {
    condition     = var.syncer == null ? true : length(var.syncer.opt_in) > 0 && alltrue([for n in var.syncer.opt_in : can(regex("^[^,\\s]+$", n))])
    error_message = "syncer.opt_in is ${jsonencode(try(var.syncer.opt_in, []))}; expected at least one Keywhiz secret name or glob, without commas or spaces."
  }

  validation {
    condition     = var.syncer == null ? true : can(regex("^[\\w/+=.@-]{1,256}$", var.syncer.prefix))
    error_message = "syncer.prefix is \"${try(var.syncer.prefix, "")}\"; expected 1 to 256 characters of A-Z a-z 0-9 / _ + = . @ -."
  }

  validation {
    condition     = var.syncer == null ? true : can(regex("^(rate\\(.+\\)|cron\\(.+\\))$", var.syncer.schedule))
    error_message = "syncer.schedule is \"${try(var.syncer.schedule, "")}\"; expected an EventBridge schedule expression, rate(...) or cron(...)."
  }

  validation {
    condition     = var.syncer == null ? true : var.syncer.recovery_window_days >= 7 && var.syncer.recovery_window_days <= 30 && floor(var.syncer.recovery_window_days) == var.syncer.recovery_window_days
    error_message = "syncer.recovery_window_days is ${try(var.syncer.recovery_window_days, 0)}; expected a whole number of days from 7 to 30."
  }

  validation {
    condition     = var.syncer == null ? true : var.syncer.max_delete_percent >= 0 && var.syncer.max_delete_percent <= 100 && floor(var.syncer.max_delete_percent) == var.syncer.max_delete_percent
    error_message = "syncer.max_delete_percent is ${try(var.syncer.max_delete_percent, 0)}; expected a whole number from 0 to 100."
  }

  validation {
    condition     = var.syncer == null ? true : var.syncer.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$", var.syncer.kms_key_arn))
    error_message = "syncer.kms_key_arn is \"${try(coalesce(var.syncer.kms_key_arn, "null"), "null")}\"; expected null or a KMS key ARN."
  }

  validation {
    condition     = var.syncer == null ? true : can(regex("^[\\w-]{1,64}$", var.syncer.function_name))
    error_message = "syncer.function_name is \"${try(var.syncer.function_name, "")}\"; expected 1 to 64 characters of A-Z a-z 0-9 _ -."
  }

  validation {
    condition     = var.syncer == null ? true : var.syncer.memory_size >= 128 && var.syncer.memory_size <= 10240 && var.syncer.timeout >= 10 && var.syncer.timeout <= 900
    error_message = "syncer.memory_size is ${try(var.syncer.memory_size, 0)} and syncer.timeout is ${try(var.syncer.timeout, 0)}; expected 128 to 10240 MB and 10 to 900 seconds."
  }
}

variable "operator_role" {
  description = <<-EOT
    The operator role that `lambda-svid sync` assumes (the command line's
    LAMBDA_SVID_OPERATOR_ROLE), or null for none. trusted_principal_arn is the
    one central role (or user) its trust names, and the only principal that may
    assume it; name is the role's name. It may only lambda:InvokeFunction this
    account's syncer, so it needs syncer.
  EOT
  type = object({
    trusted_principal_arn = string
    name                  = optional(string, "lambda-svid-operator")
  })
  default = null

  validation {
    condition     = var.operator_role == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\\w+=,.@/-]{1,512}$", var.operator_role.trusted_principal_arn))
    error_message = "operator_role.trusted_principal_arn is \"${try(var.operator_role.trusted_principal_arn, "")}\"; expected one IAM role or user ARN such as arn:aws:iam::111111111111:role/lambda-svid-operator, without wildcards."
  }

  validation {
    condition     = var.operator_role == null ? true : can(regex("^[\\w+=,.@-]{1,64}$", var.operator_role.name))
    error_message = "operator_role.name is \"${try(var.operator_role.name, "")}\"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -."
  }
}

variable "log_retention_days" {
  description = "Retention of the syncer's log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days is ${var.log_retention_days}; expected one of CloudWatch Logs' retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
