# IAM users and groups come after the local files: a local name or id
# always wins (libnss_iam(8)).
passwd after=files iam
group after=files iam
