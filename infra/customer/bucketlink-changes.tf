# Optional, beside bucketlink-access.tf (the Terraform equivalent of bucketlink-changes.yaml):
# forwards to bucketlink the CloudTrail events about bucketlink's role, your bucket and your KMS
# key, so that a change that breaks or repairs the integration is checked within seconds. Needs a
# CloudTrail trail recording management events. IAM's events are delivered in us-east-1 only, so
# the role's rule lives there (provider alias aws.us_east_1); the others in the bucket's region.

terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.us_east_1]
    }
  }
}

variable "provider_event_bus_arn" {
  description = "bucketlink's event bus (shown on bucketlink's integration page)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws(-cn|-us-gov)?:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.provider_event_bus_arn))
    error_message = "provider_event_bus_arn must be an EventBridge event bus ARN."
  }
}

variable "role_name" {
  description = "The role you created for bucketlink (BucketlinkAccess-<integration id>)."
  type        = string
}

variable "bucket_name" {
  description = "The bucket bucketlink reads."
  type        = string
}

variable "kms_key_arn" {
  description = "The KMS key ARN that encrypts the objects (SSE-KMS), or empty."
  type        = string
  default     = ""
}

locals {
  forward = [{ id = "bucketlink", arn = var.provider_event_bus_arn }]
}

resource "aws_iam_role" "forward" {
  name_prefix = "bucketlink-forward-"
  description = "Lets EventBridge forward bucketlink's change events to bucketlink's event bus."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "forward" {
  role = aws_iam_role.forward.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "events:PutEvents", Resource = var.provider_event_bus_arn }]
  })
}

resource "aws_cloudwatch_event_rule" "role_changes" {
  provider    = aws.us_east_1
  name_prefix = "bucketlink-role-"
  description = "Changes to bucketlink's role (delivered in us-east-1 only)."
  event_pattern = jsonencode({
    source        = ["aws.iam"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource       = ["iam.amazonaws.com"]
      eventName         = ["UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "DeleteRole"]
      requestParameters = { roleName = [var.role_name] }
    }
  })
}

resource "aws_cloudwatch_event_target" "role_changes" {
  provider = aws.us_east_1
  rule     = aws_cloudwatch_event_rule.role_changes.name
  arn      = var.provider_event_bus_arn
  role_arn = aws_iam_role.forward.arn
}

resource "aws_cloudwatch_event_rule" "bucket_changes" {
  name_prefix = "bucketlink-bucket-"
  description = "Changes to the bucket's CORS, policy and encryption."
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource       = ["s3.amazonaws.com"]
      eventName         = ["PutBucketCors", "DeleteBucketCors", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketEncryption", "DeleteBucketEncryption", "DeleteBucket"]
      requestParameters = { bucketName = [var.bucket_name] }
    }
  })
}

resource "aws_cloudwatch_event_target" "bucket_changes" {
  rule     = aws_cloudwatch_event_rule.bucket_changes.name
  arn      = var.provider_event_bus_arn
  role_arn = aws_iam_role.forward.arn
}

resource "aws_cloudwatch_event_rule" "key_changes" {
  count       = var.kms_key_arn == "" ? 0 : 1
  name_prefix = "bucketlink-key-"
  description = "Changes to the KMS key's policy and state."
  event_pattern = jsonencode({
    source        = ["aws.kms"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource       = ["kms.amazonaws.com"]
      eventName         = ["PutKeyPolicy", "DisableKey", "EnableKey", "ScheduleKeyDeletion"]
      requestParameters = { keyId = [var.kms_key_arn, split("key/", var.kms_key_arn)[1]] }
    }
  })
}

resource "aws_cloudwatch_event_target" "key_changes" {
  count    = var.kms_key_arn == "" ? 0 : 1
  rule     = aws_cloudwatch_event_rule.key_changes[0].name
  arn      = var.provider_event_bus_arn
  role_arn = aws_iam_role.forward.arn
}
