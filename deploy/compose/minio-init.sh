#!/bin/sh
# One-shot (compose service minio-init): the bucket, and an access key for
# vreg that can touch nothing but that bucket. Idempotent: safe to re-run.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "local/$BUCKET"
cat > /tmp/vreg-policy.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], "Resource": ["arn:aws:s3:::$BUCKET"] },
    { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], "Resource": ["arn:aws:s3:::$BUCKET/*"] }
  ]
}
JSON
mc admin policy create local vreg-blobs /tmp/vreg-policy.json
mc admin user add local "$ACCESS_KEY" "$SECRET_KEY"
# Attaching twice is an error; an already attached policy is fine. (No grep in the mc image.)
info="$(mc admin user info local "$ACCESS_KEY")"
case "$info" in
  *vreg-blobs*) ;;
  *) mc admin policy attach local vreg-blobs --user "$ACCESS_KEY" ;;
esac
echo "bucket $BUCKET ready for $ACCESS_KEY"
