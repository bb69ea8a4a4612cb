# Read-only delegated access for bucketlink, the Terraform equivalent of bucketlink-access.yaml:
# a role that bucketlink's principal may assume with your external ID, allowed to read (and list)
# one S3 bucket. Apply it in the account that owns the bucket; paste the role_arn output back into
# bucketlink. The variables take the values bucketlink shows as CloudFormation parameters.

variable "provider_principal" {
  description = "The bucketlink role ARN to trust (shown on bucketlink's integration page)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/.+$", var.provider_principal))
    error_message = "provider_principal must be an IAM role ARN."
  }
}

variable "next_provider_principal" {
  description = "While bucketlink moves to a new principal, that one (trusted alongside provider_principal); empty otherwise."
  type        = string
  default     = ""
}

variable "external_id" {
  description = "The external ID bucketlink generated for this integration."
  type        = string
  validation {
    condition     = length(var.external_id) >= 2 && length(var.external_id) <= 1224
    error_message = "external_id must be 2 to 1224 characters."
  }
}

variable "previous_external_id" {
  description = "During an external ID rotation, the ID being replaced (accepted alongside external_id until the rotation ends); empty otherwise."
  type        = string
  default     = ""
}

variable "bucket_name" {
  description = "The bucket bucketlink may read."
  type        = string
}

variable "key_prefix" {
  description = "Only objects under this prefix are readable (empty for the whole bucket)."
  type        = string
  default     = ""
  validation {
    # IAM reads * ? and ${...} in a resource as wildcards and variables: the role would read more.
    condition     = can(regex("^([^/*?$][^*?$]*)?$", var.key_prefix)) && length(var.key_prefix) <= 1024
    error_message = "key_prefix may not start with / nor contain * ? or $."
  }
}

variable "kms_key_arn" {
  description = "The KMS key ARN that encrypts the objects (SSE-KMS), or empty."
  type        = string
  default     = ""
}

variable "role_name" {
  description = "The name of the role to create (bucketlink shows one per integration, BucketlinkAccess-<integration id>)."
  type        = string
}

data "aws_partition" "current" {}

locals {
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  # The key's region is the bucket's: S3 asks KMS from there.
  kms_region = var.kms_key_arn == "" ? "" : split(":", var.kms_key_arn)[3]
}

resource "aws_iam_role" "bucketlink_access" {
  name                 = var.role_name
  description          = "Read-only access to one bucket for bucketlink (IAM delegated access)."
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "BucketlinkDelegatedAccess"
      Effect    = "Allow"
      Principal = { AWS = var.next_provider_principal == "" ? [var.provider_principal] : [var.provider_principal, var.next_provider_principal] }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = var.previous_external_id == "" ? [var.external_id] : [var.external_id, var.previous_external_id] } }
    }]
  })
}

resource "aws_iam_role_policy" "bucketlink_read" {
  name = "BucketlinkReadAccess"
  role = aws_iam_role.bucketlink_access.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadObjects"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${local.bucket_arn}/${var.key_prefix}*"
        },
        merge(
          {
            Sid      = "ListObjects"
            Effect   = "Allow"
            Action   = "s3:ListBucket"
            Resource = local.bucket_arn
          },
          var.key_prefix == "" ? {} : { Condition = { StringLike = { "s3:prefix" = ["${var.key_prefix}*"] } } }
        ),
        {
          Sid      = "LocateBucket"
          Effect   = "Allow"
          Action   = "s3:GetBucketLocation"
          Resource = local.bucket_arn
        },
      ],
      var.kms_key_arn == "" ? [] : [{
        Sid      = "DecryptObjects"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.kms_region}.${data.aws_partition.current.dns_suffix}" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = ["${local.bucket_arn}/${var.key_prefix}*", local.bucket_arn] }
        }
      }]
    )
  })
}

output "role_arn" {
  description = "Paste this into bucketlink as the integration's role ARN."
  value       = aws_iam_role.bucketlink_access.arn
}
