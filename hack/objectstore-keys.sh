#!/usr/bin/env bash
# Makes a co-op's own object store credentials on MinIO and stores them where the operator
# looks for them (README, "Security model"):
#   <prefix><co-op>       read-write, limited to <bucket>/<region>/<co-op>/  (its Cluster)
#   <prefix><co-op>-read  read-only, same prefix                             (peer hubs)
# Usage: hack/objectstore-keys.sh <mc-alias> <bucket> <region> <co-op> [operator-namespace] [prefix]
# Needs `mc` (MinIO client, logged in as an admin under <mc-alias>) and `kubectl`.
# Other S3-compatible stores take the same two policies (AWS IAM reads them as they are).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
alias="$1" bucket="$2" region="$3" coop="$4" ns="${5:-cooperator-system}" prefix="${6:-cooperator-objectstore-}"
path="$region/$coop"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# policy <file> <object actions>: access to <bucket>/<region>/<co-op>/ only, and listing
# only under that prefix.
policy() {
  cat > "$1" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::$bucket"]},
    {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::$bucket"],
     "Condition": {"StringLike": {"s3:prefix": ["$path/*", "$path"]}}},
    {"Effect": "Allow", "Action": [$2], "Resource": ["arn:aws:s3:::$bucket/$path/*"]}
  ]
}
JSON
}
policy "$tmp/rw.json" '"s3:GetObject", "s3:PutObject", "s3:DeleteObject"'
policy "$tmp/ro.json" '"s3:GetObject"'

# key <suffix> <policy file>: a MinIO user with that policy, and its Secret.
key() {
  local name="$prefix$coop$1" secret
  secret="$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
  mc admin user add "$alias" "$name" "$secret"
  mc admin policy create "$alias" "$name" "$2"
  mc admin policy attach "$alias" "$name" --user "$name"
  kubectl -n "$ns" create secret generic "$name" \
    --from-literal=ACCESS_KEY_ID="$name" --from-literal=ACCESS_SECRET_KEY="$secret" \
    --dry-run=client -o yaml | kubectl apply -f -
}
key "" "$tmp/rw.json"
key "-read" "$tmp/ro.json"
echo "Secrets $ns/$prefix$coop (read-write) and $ns/$prefix$coop-read (read-only) reach only s3://$bucket/$path/"
