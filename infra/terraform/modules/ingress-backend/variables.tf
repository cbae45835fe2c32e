variable "role_name" {
  description = "Name of the role the ingress assumes for this route (the route's roleArn names it)."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name is \"${var.role_name}\"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -."
  }
}

variable "ingress_role_arn" {
  description = "ARN of the ingress's own role (its IRSA, ECS task or instance role); the only principal this role trusts."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", var.ingress_role_arn))
    error_message = "ingress_role_arn is \"${var.ingress_role_arn}\"; expected an IAM role ARN such as arn:aws:iam::111111111111:role/lambda-svid-ingress."
  }
}

variable "backend" {
  description = <<-EOT
    The one backend this role may call; set exactly one attribute.
    execute_api: an API Gateway REST or HTTP API; execution_arn is the API's
    execution ARN (arn:aws:execute-api:<region>:<account>:<api id>), stage its
    stage, methods the HTTP methods the route forwards, resource_path a prefix
    of the request path as API Gateway's ARN sees it ("/" the whole stage;
    "/orders" also covers "/orders-x", "/orders/" does not).
    lambda_function_url: a function URL with AuthType AWS_IAM; function_arn the
    function's ARN, with the alias when the URL is on one.
    s3: a bucket read as a static site; prefix the key prefix ("" the whole
    bucket), list whether the role may also list the bucket under that prefix
    (a non-empty prefix).
  EOT
  type = object({
    execute_api = optional(object({
      execution_arn = string
      stage         = string
      methods       = list(string)
      resource_path = optional(string, "/")
    }))
    lambda_function_url = optional(object({
      function_arn = string
    }))
    s3 = optional(object({
      bucket = string
      prefix = optional(string, "")
      list   = optional(bool, false)
    }))
  })

  validation {
    condition     = length(compact([for kind, spec in var.backend : spec == null ? "" : kind])) == 1
    error_message = "backend sets ${jsonencode(compact([for kind, spec in var.backend : spec == null ? "" : kind]))}; expected exactly one of execute_api, lambda_function_url and s3."
  }

  validation {
    condition     = var.backend.execute_api == null ? true : can(regex("^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[a-z0-9]{10}$", var.backend.execute_api.execution_arn))
    error_message = "backend.execute_api.execution_arn is \"${try(var.backend.execute_api.execution_arn, "")}\"; expected an API's execution ARN such as arn:aws:execute-api:eu-west-1:111111111111:a1b2c3d4e5."
  }

  validation {
    condition     = var.backend.execute_api == null ? true : can(regex("^[\\w-]{1,128}$", var.backend.execute_api.stage))
    error_message = "backend.execute_api.stage is \"${try(var.backend.execute_api.stage, "")}\"; expected a stage name, 1 to 128 characters of A-Z a-z 0-9 _ -."
  }

  validation {
    condition     = var.backend.execute_api == null ? true : length(var.backend.execute_api.methods) > 0 && length(distinct(var.backend.execute_api.methods)) == length(var.backend.execute_api.methods) && alltrue([for m in var.backend.execute_api.methods : contains(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], m)])
    error_message = "backend.execute_api.methods is ${jsonencode(try(var.backend.execute_api.methods, []))}; expected at least one of GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS, each once."
  }

  validation {
    condition     = var.backend.execute_api == null ? true : can(regex("^/[\\w.~!$&'()+,;=:@%/-]*$", var.backend.execute_api.resource_path))
    error_message = "backend.execute_api.resource_path is \"${try(var.backend.execute_api.resource_path, "")}\"; expected a path prefix that starts with /, without wildcards, quotes or spaces, such as / or /orders/."
  }

  validation {
    condition     = var.backend.lambda_function_url == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[\\w-]{1,64}(:[\\w-]{1,128})?$", var.backend.lambda_function_url.function_arn))
    error_message = "backend.lambda_function_url.function_arn is \"${try(var.backend.lambda_function_url.function_arn, "")}\"; expected a function ARN, with the URL's alias if any, such as arn:aws:lambda:eu-west-1:111111111111:function:orders or ...:function:orders:live."
  }

  validation {
    condition     = var.backend.s3 == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.backend.s3.bucket))
    error_message = "backend.s3.bucket is \"${try(var.backend.s3.bucket, "")}\"; expected an S3 bucket name, 3 to 63 characters of a-z 0-9 . -."
  }

  validation {
    condition     = var.backend.s3 == null ? true : can(regex("^[ !#-)+->@-\\[\\]-~]*$", var.backend.s3.prefix)) && !startswith(var.backend.s3.prefix, "/")
    error_message = "backend.s3.prefix is \"${try(var.backend.s3.prefix, "")}\"; expected a key prefix of printable ASCII without * ? \" \\ and not starting with /, such as site/ (\"\" for the whole bucket)."
  }

  validation {
    condition     = var.backend.s3 == null ? true : !var.backend.s3.list || var.backend.s3.prefix != ""
    error_message = "backend.s3.list is true with an empty prefix; expected a prefix, which limits the ListBucket grant (s3:prefix), or list = false."
  }
}

variable "max_session_duration" {
  description = "Longest session of the role, in seconds; the ingress asks for less and refreshes before expiry."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200 && floor(var.max_session_duration) == var.max_session_duration
    error_message = "max_session_duration is ${var.max_session_duration}; expected a whole number of seconds from 3600 to 43200."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy to set as the role's permissions boundary, or null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\\w+=,.@/-]{1,512}$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn is \"${coalesce(var.permissions_boundary_arn, "null")}\"; expected null or an IAM policy ARN."
  }
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
